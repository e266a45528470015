// Keys, CSRs and certificates for the PKI tests: CSRs made with node-forge over node:crypto keys,
// enrolment through the admin API, and certificates the CA never issued (self-signed, expired).
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import forge from 'node-forge';
import { expect } from 'vitest';
import { admin } from './fixtures.js';
import type { TestSystem } from './system.js';

export interface KeyPem {
  privatePem: string;
  publicPem: string;
}

export function rsaKey(bits = 2048): KeyPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** A PEM CSR for `cn`, carrying `key`'s public key and signed by `signer` (default: the same key). */
export function csrPem(cn: string, key: KeyPem, options: { signer?: KeyPem; md?: 'sha256' | 'sha1' } = {}): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(key.publicPem);
  csr.setSubject([{ name: 'commonName', value: cn }]);
  const md = options.md === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create();
  csr.sign(forge.pki.privateKeyFromPem((options.signer ?? key).privatePem), md);
  return forge.pki.certificationRequestToPem(csr);
}

export interface Enrolled {
  terminalId: string;
  key: KeyPem;
  certPem: string;
  caPem: string;
  serialNumber: string;
  notAfter: string;
}

export async function enrol(app: FastifyInstance, terminalId: string, key: KeyPem = rsaKey()): Promise<Enrolled> {
  const res = await app.inject({ method: 'POST', url: `/v1/admin/terminals/${terminalId}/certificate`, headers: admin, payload: { csr: csrPem(terminalId, key) } });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json() as { certificate: string; caCertificate: string; serialNumber: string; notAfter: string };
  return { terminalId, key, certPem: body.certificate, caPem: body.caCertificate, serialNumber: body.serialNumber, notAfter: body.notAfter };
}

/** A self-signed certificate with the terminal's CN: right name, wrong issuer. */
export function selfSigned(cn: string, key: KeyPem = rsaKey()): { key: KeyPem; certPem: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.publicPem);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const subject = [{ name: 'commonName', value: cn }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(key.privatePem), forge.md.sha256.create());
  return { key, certPem: forge.pki.certificateToPem(cert) };
}

/** A client certificate signed by the real CA whose year ended yesterday (recorded like an issued one). */
export async function expiredFromCa(sys: TestSystem, terminalId: string, key: KeyPem = rsaKey()): Promise<{ key: KeyPem; certPem: string }> {
  const ca = sys.pki.pki.ca;
  const start = new Date(Date.now() - 366 * 86_400_000);
  const issued = ca.issueTerminal(terminalId, forge.pki.publicKeyFromPem(key.publicPem) as forge.pki.rsa.PublicKey, start);
  await sys.pool.query(`INSERT INTO terminal_certificates (serial, terminal_id, not_before, not_after, cert_pem) VALUES ($1, $2, $3, $4, $5)`, [
    issued.serial,
    terminalId,
    issued.notBefore,
    issued.notAfter,
    issued.certPem,
  ]);
  expect(issued.notAfter.getTime()).toBeLessThan(Date.now());
  return { key, certPem: issued.certPem };
}
