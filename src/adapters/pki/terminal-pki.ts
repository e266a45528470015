// The terminal CA at work: created once (insert-if-absent, key sealed under MASTER_KEY), enrolment
// from a CSR or as a PKCS#12, blocking with revocation, the CRL, the listeners' server credentials,
// and the check of a peer certificate on every new mTLS connection.
import type { Logger } from '../../platform/logger.js';
import type { Clock } from '../../platform/clock.js';
import type { Secrets } from '../../platform/secrets.js';
import type { Registry } from '../postgres/registry.js';
import type { PkiStore } from '../postgres/pki-store.js';
import { CertificateAuthority, createCa, forgePublicKeyFromPem, newRsaKeyPem, pkcs12Base64, type Issued } from './certs.js';
import { checkCsr } from './csr.js';
import { buildCrlPem } from './crl.js';

/** A CRL is good for a day; it is re-signed after an hour even without new revocations. */
export const crlValidityMs = 24 * 3_600_000;
export const crlRefreshMs = 3_600_000;

export type EnrolResult =
  | { kind: 'issued'; certificate: string; caCertificate: string; serialNumber: string; notAfter: string }
  | { kind: 'bad-csr'; reason: string }
  | { kind: 'unknown-terminal' }
  | { kind: 'blocked' };

export type Pkcs12Result = { kind: 'issued'; pkcs12: string; serialNumber: string; notAfter: string } | { kind: 'unknown-terminal' } | { kind: 'blocked' };

export interface TerminalPkiDeps {
  store: PkiStore;
  registry: Registry;
  secrets: Secrets;
  clock: Clock;
  log: Logger;
}

export class TerminalPki {
  private authority: CertificateAuthority | null = null;
  private crl: { mark: string; pem: string; atMs: number } | null = null;

  constructor(private readonly deps: TerminalPkiDeps) {}

  /** Loads the CA, creating it on the very first start. */
  async start(): Promise<void> {
    if (this.authority) return;
    const stored = await this.deps.store.ensureCa(async () => {
      const made = await createCa(this.deps.clock.now());
      this.deps.log.info('pki: terminal CA created');
      return { certPem: made.certPem, keyEnc: this.deps.secrets.encrypt(made.keyPem) };
    });
    this.authority = new CertificateAuthority({ certPem: stored.certPem, keyPem: this.deps.secrets.decrypt(stored.keyEnc).toString('utf8') });
  }

  get ca(): CertificateAuthority {
    if (!this.authority) throw new Error('pki: not started');
    return this.authority;
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  async enrol(terminalId: string, csrPem: string): Promise<EnrolResult> {
    const refusal = await this.refusalFor(terminalId);
    if (refusal) return refusal;
    const check = checkCsr(csrPem, terminalId);
    if (!check.ok) return { kind: 'bad-csr', reason: check.reason };
    const issued = await this.record(terminalId, this.ca.issueTerminal(terminalId, check.publicKey, this.deps.clock.now()));
    return { kind: 'issued', certificate: issued.certPem, caCertificate: this.caPem, serialNumber: issued.serial, notAfter: issued.notAfter.toISOString() };
  }

  /** For terminals that cannot make keys: a fresh key and certificate in a PKCS#12 under `password`. */
  async pkcs12(terminalId: string, password: string): Promise<Pkcs12Result> {
    const refusal = await this.refusalFor(terminalId);
    if (refusal) return refusal;
    const { privatePem, publicPem } = await newRsaKeyPem();
    const issued = await this.record(terminalId, this.ca.issueTerminal(terminalId, forgePublicKeyFromPem(publicPem), this.deps.clock.now()));
    return { kind: 'issued', pkcs12: pkcs12Base64(privatePem, issued.certPem, this.caPem, password, terminalId), serialNumber: issued.serial, notAfter: issued.notAfter.toISOString() };
  }

  /** Blocking revokes every certificate of the terminal; activating does not un-revoke (re-enrol). */
  async setStatus(terminalId: string, status: 'active' | 'blocked'): Promise<{ found: boolean; revoked: string[] }> {
    const result = await this.deps.store.setTerminalStatus(terminalId, status, this.deps.clock.now());
    if (result.revoked.length > 0) this.crl = null;
    if (result.found) this.deps.log.info({ terminalId, status, revoked: result.revoked }, 'pki: terminal status');
    return result;
  }

  /** The current CRL: re-signed when a certificate was revoked (in any process) or after `crlRefreshMs`. */
  async crlPem(): Promise<string> {
    const mark = await this.deps.store.revocationMark();
    const nowMs = this.deps.clock.now().getTime();
    if (this.crl && this.crl.mark === mark && nowMs - this.crl.atMs < crlRefreshMs) return this.crl.pem;
    const now = new Date(nowMs);
    const revoked = await this.deps.store.revoked(now);
    const pem = buildCrlPem(this.caPem, this.ca.keyPem, revoked, now, new Date(nowMs + crlValidityMs), BigInt(Math.floor(nowMs / 1000)));
    this.crl = { mark, pem, atMs: nowMs };
    return pem;
  }

  /** Why a verified client certificate may not speak (null: it may): unknown, revoked, expired, or its terminal not active. */
  async peerRefusal(serialHex: string, commonName: string): Promise<string | null> {
    const serial = serialHex.toLowerCase().replace(/^0+(?=..)/, '');
    const row = await this.deps.store.certificate(serial.length % 2 ? `0${serial}` : serial);
    if (!row) return 'certificate not issued by this CA';
    if (row.terminalId !== commonName) return 'certificate CN does not match its enrolment';
    if (row.revokedAt) return 'certificate revoked';
    const now = this.deps.clock.now();
    if (row.notAfter <= now || row.notBefore > now) return 'certificate outside its validity';
    const terminal = await this.deps.registry.terminal(row.terminalId);
    if (!terminal || terminal.status !== 'active') return 'terminal not active';
    return null;
  }

  /** Key and certificate for the mTLS listeners, issued by the CA to this process (the key never leaves memory). */
  async serverCredentials(hosts: string[]): Promise<{ key: string; cert: string; ca: string }> {
    const { privatePem, publicPem } = await newRsaKeyPem();
    const issued = this.ca.issueServer(hosts, forgePublicKeyFromPem(publicPem), this.deps.clock.now());
    return { key: privatePem, cert: issued.certPem, ca: this.caPem };
  }

  private async refusalFor(terminalId: string): Promise<{ kind: 'unknown-terminal' } | { kind: 'blocked' } | null> {
    const terminal = await this.deps.registry.terminal(terminalId);
    if (!terminal) return { kind: 'unknown-terminal' };
    if (terminal.status !== 'active') return { kind: 'blocked' };
    return null;
  }

  private async record(terminalId: string, issued: Issued): Promise<Issued> {
    await this.deps.store.insertCertificate({ serial: issued.serial, terminalId, notBefore: issued.notBefore, notAfter: issued.notAfter, certPem: issued.certPem });
    this.deps.log.info({ terminalId, serial: issued.serial, notAfter: issued.notAfter.toISOString() }, 'pki: certificate issued');
    return issued;
  }
}
