// Terminal enrolment: `<program> enroll` makes an RSA key, sends a CSR (subject CN = the terminal id)
// to the back office's admin API, and keeps key, certificate and CA certificate with the reader's
// state (<state-dir>/<terminalId>.key.pem, .cert.pem, .ca.pem). Enrolled readers speak mutual TLS.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';

export const enrolKeyBits = 2048;

export interface TlsIdentity {
  key: string;
  cert: string;
  ca: string;
}

export interface EnrolOptions {
  terminalId: string;
  /** The back office's admin API (plain HTTP_PORT, or HTTPS with a trusted server certificate). */
  server: string;
  adminToken: string;
  stateDir: string;
}

export function identityFiles(stateDir: string, terminalId: string): { key: string; cert: string; ca: string } {
  return {
    key: path.join(stateDir, `${terminalId}.key.pem`),
    cert: path.join(stateDir, `${terminalId}.cert.pem`),
    ca: path.join(stateDir, `${terminalId}.ca.pem`),
  };
}

/** The reader's certificate, key and CA when it was enrolled, else null. */
export async function loadIdentity(stateDir: string, terminalId: string): Promise<TlsIdentity | null> {
  const files = identityFiles(stateDir, terminalId);
  try {
    const [key, cert, ca] = await Promise.all([readFile(files.key, 'utf8'), readFile(files.cert, 'utf8'), readFile(files.ca, 'utf8')]);
    return { key, cert, ca };
  } catch {
    return null;
  }
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

/** Enrols (or renews: the same call while the old certificate is valid) and stores the result. */
export async function enroll(opts: EnrolOptions): Promise<{ serialNumber: string; notAfter: string; files: ReturnType<typeof identityFiles> }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: enrolKeyBits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.setSubject([{ name: 'commonName', value: opts.terminalId }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const res = await fetch(`${opts.server}/v1/admin/terminals/${encodeURIComponent(opts.terminalId)}/certificate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ csr: forge.pki.certificationRequestToPem(csr) }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as { certificate?: string; caCertificate?: string; serialNumber?: string; notAfter?: string; detail?: string };
  if (res.status !== 201 || !body.certificate || !body.caCertificate) throw new Error(`enrolment refused: HTTP ${res.status} ${body.detail ?? ''}`.trim());
  await mkdir(opts.stateDir, { recursive: true });
  const files = identityFiles(opts.stateDir, opts.terminalId);
  // The key first and private to the reader's user; the certificate last marks the enrolment done.
  await writeAtomic(files.key, privateKey, 0o600);
  await writeAtomic(files.ca, body.caCertificate, 0o644);
  await writeAtomic(files.cert, body.certificate, 0o644);
  return { serialNumber: body.serialNumber ?? '', notAfter: body.notAfter ?? '', files };
}
