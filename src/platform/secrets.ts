// Secrets at rest: AES-256-GCM under the master key, HMAC lookups, slow PIN hashes (scrypt), API keys.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

export class Secrets {
  private readonly aesKey: Buffer;
  private readonly hmacKey: Buffer;

  constructor(masterKeyHex: string) {
    const master = Buffer.from(masterKeyHex, 'hex');
    // Separate keys per purpose, derived from the master key.
    this.aesKey = createHmac('sha256', master).update('citizen-card/aes').digest();
    this.hmacKey = createHmac('sha256', master).update('citizen-card/hmac').digest();
  }

  encrypt(plain: Buffer | string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.aesKey, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.aesKey, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  }

  lookupHmac(value: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(value).digest();
  }
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function newApiKey(): string {
  return `cck_${randomBytes(24).toString('base64url')}`;
}

const pinScrypt = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(pin, salt, 32, pinScrypt);
  return `scrypt$${pinScrypt.N}$${pinScrypt.r}$${pinScrypt.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, hashText] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashText, 'base64url');
  const actual = await scryptAsync(pin, Buffer.from(saltText, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: pinScrypt.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

export function maskIdNumber(idNumber: string): string {
  if (idNumber.length <= 4) return '*'.repeat(idNumber.length);
  return idNumber.slice(0, 3) + '*'.repeat(idNumber.length - 7) + idNumber.slice(-4);
}
