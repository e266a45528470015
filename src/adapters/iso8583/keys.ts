// Terminal key material (MAK, PIN key, TMK): DES block primitives, double-length key generation with
// odd parity, key encryption under a key-encrypting key, and key check values.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const desBlockBytes = 8;
export const desKeyBytes = 8;
export const doubleKeyBytes = 16;
export const tripleKeyBytes = 24;

export class KeyError extends Error {
  override name = 'KeyError';
  readonly code = 'iso_key';
}

function ecb(encrypt: boolean, key24: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % desBlockBytes !== 0) {
    throw new KeyError(`DES data must be a positive multiple of ${desBlockBytes} bytes`);
  }
  const cipher = encrypt ? createCipheriv('des-ede3', key24, null) : createDecipheriv('des-ede3', key24, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * OpenSSL 3 keeps single DES in the legacy provider, usually absent; EDE with K‖K‖K is exactly single
 * DES (the middle decryption undoes the first encryption), so 3DES stands in for it.
 */
function asTripleKey(key: Buffer): Buffer {
  switch (key.length) {
    case desKeyBytes:
      return Buffer.concat([key, key, key]);
    case doubleKeyBytes:
      return Buffer.concat([key, key.subarray(0, desKeyBytes)]);
    case tripleKeyBytes:
      return key;
    default:
      throw new KeyError(`a DES key is 8, 16 or 24 bytes, got ${key.length}`);
  }
}

/** DES (8-byte key) or 3DES (16-byte K1‖K2‖K1 or 24-byte key) in ECB, no padding. */
export function desEncrypt(key: Buffer, data: Buffer): Buffer {
  return ecb(true, asTripleKey(key), data);
}

export function desDecrypt(key: Buffer, data: Buffer): Buffer {
  return ecb(false, asTripleKey(key), data);
}

/** CBC with a zero IV, no padding: the chain behind a CBC-MAC; its last block is the MAC state. */
export function desCbcEncrypt(key: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % desBlockBytes !== 0) {
    throw new KeyError(`DES data must be a positive multiple of ${desBlockBytes} bytes`);
  }
  const cipher = createCipheriv('des-ede3-cbc', asTripleKey(key), Buffer.alloc(desBlockBytes));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Sets each byte's low bit so the byte has an odd number of one bits (DES key parity). */
export function withOddParity(key: Buffer): Buffer {
  const out = Buffer.from(key);
  for (let i = 0; i < out.length; i++) {
    const high = (out[i] ?? 0) & 0xfe;
    let ones = 0;
    for (let b = high; b !== 0; b >>= 1) ones += b & 1;
    out[i] = ones % 2 === 0 ? high | 1 : high;
  }
  return out;
}

export function hasOddParity(key: Buffer): boolean {
  return withOddParity(key).equals(key);
}

/** A fresh double-length 3DES key with odd parity, whose halves differ (else it is single DES). */
export function generateKey(): Buffer {
  for (;;) {
    const key = withOddParity(randomBytes(doubleKeyBytes));
    if (!key.subarray(0, desKeyBytes).equals(key.subarray(desKeyBytes))) return key;
  }
}

function requireMultiKey(key: Buffer, what: string): void {
  if (key.length !== doubleKeyBytes && key.length !== tripleKeyBytes) throw new KeyError(`${what} is 16 or 24 bytes`);
}

/** Key under a key-encrypting key (TMK or master KEK, 16 or 24 bytes): 3DES ECB, as terminals expect. */
export function encryptKey(key: Buffer, kek: Buffer): Buffer {
  requireMultiKey(kek, 'a key-encrypting key');
  requireMultiKey(key, 'a working key');
  return desEncrypt(kek, key);
}

export function decryptKey(encrypted: Buffer, kek: Buffer): Buffer {
  requireMultiKey(kek, 'a key-encrypting key');
  requireMultiKey(encrypted, 'an encrypted key');
  return desDecrypt(kek, encrypted);
}

/** Key check value: the key encrypts 8 zero bytes; the first 3 bytes, upper-case hex. Safe to log. */
export function keyCheckValue(key: Buffer): string {
  return desEncrypt(key, Buffer.alloc(desBlockBytes)).subarray(0, 3).toString('hex').toUpperCase();
}

/** Parses a 16- or 32- or 48-hex-digit key; throws KeyError without echoing the text. */
export function keyFromHex(hex: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{16}){1,3}$/.test(hex)) throw new KeyError('a key is 16, 32 or 48 hex digits');
  return Buffer.from(hex, 'hex');
}
