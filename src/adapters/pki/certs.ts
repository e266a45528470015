// Certificates of the terminal CA with node-forge: the self-signed CA, terminal (client) certificates
// from a checked CSR's public key, the listeners' server certificate, and PKCS#12 bundles.
import { constants, generateKeyPair, privateEncrypt, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

export const caKeyBits = 3072;
export const issuedKeyBits = 2048;
export const caValidityYears = 10;
export const terminalValidityDays = 365;
export const serverValidityDays = 365;
export const caCommonName = 'Citizen Card Terminal CA';
const organisation = 'Citizen Card';

export interface CaMaterial {
  certPem: string;
  /** PKCS#1 PEM of the CA's private key: only ever held in memory, stored encrypted. */
  keyPem: string;
}

export interface Issued {
  certPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** An RSA key pair made natively off the event loop (forge's pure-JS generation takes seconds), PKCS#1 PEM. */
export async function newRsaKeyPem(bits = issuedKeyBits): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

// DER DigestInfo header of a SHA-256 digest (RFC 8017 §9.2 note 1).
const sha256DigestInfoPrefix = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * A signer for forge's cert.sign that does the RSA operation natively: forge's pure-JS RSA with a
 * 3072-bit key blocks the event loop for hundreds of milliseconds. PKCS#1 v1.5 over SHA-256.
 */
function nativeSigner(privatePem: string): forge.pki.rsa.PrivateKey {
  return {
    sign(md: forge.md.MessageDigest) {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      return privateEncrypt({ key: privatePem, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([sha256DigestInfoPrefix, digest])).toString('binary');
    },
  } as unknown as forge.pki.rsa.PrivateKey;
}

/** A positive 16-byte serial in lower-case hex with no leading zero byte (as TLS stacks print it). */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = 0x10 + (bytes[0]! % 0x70);
  return bytes.toString('hex');
}

function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}

/** The self-signed CA; its key (seconds to make at 3072 bits) is generated off the event loop. */
export async function createCa(now: Date): Promise<CaMaterial> {
  const { privateKey: privatePem } = await generateKeyPairAsync('rsa', {
    modulusLength: caKeyBits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privatePem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = newSerial();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime());
  cert.validity.notAfter.setUTCFullYear(now.getUTCFullYear() + caValidityYears);
  const subject = [
    { name: 'commonName', value: caCommonName },
    { name: 'organizationName', value: organisation },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(nativeSigner(privatePem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privatePem };
}

export class CertificateAuthority {
  readonly cert: forge.pki.Certificate;
  private readonly signer: forge.pki.rsa.PrivateKey;

  constructor(readonly material: CaMaterial) {
    this.cert = forge.pki.certificateFromPem(material.certPem);
    this.signer = nativeSigner(material.keyPem);
  }

  get certPem(): string {
    return this.material.certPem;
  }

  /** A terminal's client certificate: CN = terminal id, clientAuth only, valid `terminalValidityDays`. */
  issueTerminal(terminalId: string, publicKey: forge.pki.rsa.PublicKey, now: Date): Issued {
    return this.issue(publicKey, now, terminalValidityDays, [{ name: 'commonName', value: terminalId }, { name: 'organizationName', value: organisation }], [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ]);
  }

  /** The listeners' certificate (serverAuth), for 127.0.0.1, localhost and the configured host names. */
  issueServer(hosts: string[], publicKey: forge.pki.rsa.PublicKey, now: Date): Issued {
    const altNames = [...new Set(['localhost', '127.0.0.1', ...hosts])].map((host) =>
      /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? { type: 7, ip: host } : { type: 2, value: host },
    );
    return this.issue(publicKey, now, serverValidityDays, [{ name: 'commonName', value: hosts[0] ?? 'localhost' }, { name: 'organizationName', value: organisation }], [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ]);
  }

  /** Signs a certificate with explicit validity (expired certificates in tests; renewal overlap). */
  issue(publicKey: forge.pki.rsa.PublicKey, now: Date, days: number, subject: forge.pki.CertificateField[], extensions: object[], notBefore = new Date(now.getTime() - 60_000)): Issued {
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = newSerial();
    cert.validity.notBefore = notBefore;
    cert.validity.notAfter = addDays(now, days);
    cert.setSubject(subject);
    cert.setIssuer(this.cert.subject.attributes);
    cert.setExtensions([...extensions, { name: 'subjectKeyIdentifier' }, { name: 'authorityKeyIdentifier', keyIdentifier: this.keyIdentifier() }]);
    cert.sign(this.signer, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), serial: cert.serialNumber, notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter };
  }

  private keyIdentifier(): string {
    return this.cert.generateSubjectKeyIdentifier().getBytes();
  }

  /** The CA key as PEM, for the CRL signature (node:crypto); never logged or written in clear. */
  get keyPem(): string {
    return this.material.keyPem;
  }
}

/** A PKCS#12 (base64) holding a new key, its certificate and the CA certificate, under `password`. */
export function pkcs12Base64(privatePem: string, certPem: string, caPem: string, password: string, friendlyName: string): string {
  const p12 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(privatePem), [forge.pki.certificateFromPem(certPem), forge.pki.certificateFromPem(caPem)], password, {
    algorithm: '3des',
    friendlyName,
  });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary').toString('base64');
}

export function forgePublicKeyFromPem(publicPem: string): forge.pki.rsa.PublicKey {
  return forge.pki.publicKeyFromPem(publicPem) as forge.pki.rsa.PublicKey;
}
