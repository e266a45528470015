// The terminal CA through the real admin API on real PostgreSQL and Redis (issue 14): enrolment and
// its refusals, PKCS#12, blocking (revocation, CRL, API key refused here and in another process), and
// the CA key sealed at rest. Certificates and the CRL are checked with the openssl command line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSystem, type System } from '../../src/system.js';
import { createLogger } from '../../src/platform/logger.js';
import { PkiStore } from '../../src/adapters/postgres/pki-store.js';
import { TerminalPki } from '../../src/adapters/pki/terminal-pki.js';
import { createTestSystem, testConfig, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos } from '../support/fixtures.js';
import { csrPem, enrol, rsaKey } from '../support/pki.js';

let sys: TestSystem;
let dir: string;

beforeAll(async () => {
  sys = await createTestSystem();
  dir = mkdtempSync(path.join(os.tmpdir(), 'pki-test-'));
});
afterAll(async () => {
  await sys?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function opensslEc(curve: string, cn: string): string {
  return execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', path.join(dir, `ec-${curve}.key`), '-subj', `/CN=${cn}`], {
    encoding: 'utf8',
  });
}

async function postCsr(terminalId: string, csr: unknown, headers: Record<string, string> = admin) {
  return sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${terminalId}/certificate`, headers, payload: { csr } });
}

async function setStatus(terminalId: string, status: string) {
  return sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${terminalId}/status`, headers: admin, payload: { status } });
}

async function caPem(): Promise<string> {
  const res = await sys.http.inject({ method: 'GET', url: '/v1/pki/ca.pem' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

describe('the CA and enrolment', () => {
  it('serves the CA certificate publicly and issues a 1-year client certificate for a good CSR that chains to it', async () => {
    const pos = await retailPos(sys.http);
    const ca = await caPem();
    expect(ca).toContain('-----BEGIN CERTIFICATE-----');
    const e = await enrol(sys.http, pos.terminalId);
    expect(e.caPem).toBe(ca);
    expect(e.serialNumber).toMatch(/^[0-9a-f]{32}$/);
    const days = (new Date(e.notAfter).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect(openssl(['verify', '-CAfile', file('ca.pem', ca), '-purpose', 'sslclient', file('t.pem', e.certPem)])).toContain('OK');
    const text = openssl(['x509', '-in', file('t.pem', e.certPem), '-noout', '-subject', '-serial', '-ext', 'extendedKeyUsage']);
    expect(text).toContain(`CN = ${pos.terminalId}`);
    expect(text.toLowerCase()).toContain(`serial=${e.serialNumber}`);
    expect(text).toContain('TLS Web Client Authentication');
  });

  it('renews: a new CSR while the first certificate is valid gets a new certificate; both are on record', async () => {
    const pos = await retailPos(sys.http);
    const first = await enrol(sys.http, pos.terminalId);
    const second = await enrol(sys.http, pos.terminalId);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    const r = await sys.pool.query(`SELECT serial FROM terminal_certificates WHERE terminal_id = $1 AND revoked_at IS NULL`, [pos.terminalId]);
    expect(r.rows.map((row) => row.serial).sort()).toEqual([first.serialNumber, second.serialNumber].sort());
  });

  it('refuses each kind of bad CSR with 400 and the reason, and records nothing', async () => {
    const pos = await retailPos(sys.http);
    const other = await retailPos(sys.http);
    const key = rsaKey();
    const cases: [string, unknown, RegExp][] = [
      ['another terminal id', csrPem(other.terminalId, key), /CN "\w+" is not the terminal/],
      ['bad signature', csrPem(pos.terminalId, key, { signer: rsaKey() }), /bad signature/],
      ['RSA 1024', csrPem(pos.terminalId, rsaKey(1024)), /weak key: RSA 1024 bits is below the minimum of 2048/],
      ['SHA-1 signature', csrPem(pos.terminalId, key, { md: 'sha1' }), /weak signature algorithm/],
      ['EC P-384', opensslEc('P-384', pos.terminalId), /weak or unsupported key: EC curve 1\.3\.132\.0\.34 is refused/],
      ['EC P-256', opensslEc('P-256', pos.terminalId), /EC P-256 requests are not accepted/],
      ['garbage', 'hello, I am a certificate', /not a PEM PKCS#10/],
      ['a certificate instead of a CSR', await caPem(), /not a PEM PKCS#10/],
      ['PEM armour around junk', '-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n', /not valid DER|could not be parsed|no readable/],
    ];
    for (const [name, csr, reason] of cases) {
      const res = await postCsr(pos.terminalId, csr);
      expect(res.statusCode, name).toBe(400);
      expect(res.headers['content-type'], name).toContain('application/problem+json');
      expect(res.json().detail, name).toMatch(reason);
    }
    const wrongType = await postCsr(pos.terminalId, 12345);
    expect(wrongType.statusCode).toBe(400);
    const r = await sys.pool.query(`SELECT count(*)::int AS n FROM terminal_certificates WHERE terminal_id = $1`, [pos.terminalId]);
    expect(r.rows[0].n).toBe(0);
  });

  it('answers 404 for an unknown terminal and 401 without the admin token', async () => {
    const unknown = await postCsr('NOSUCH01', csrPem('NOSUCH01', rsaKey()));
    expect(unknown.statusCode).toBe(404);
    const pos = await retailPos(sys.http);
    const anonymous = await postCsr(pos.terminalId, csrPem(pos.terminalId, rsaKey()), {});
    expect(anonymous.statusCode).toBe(401);
    const asTerminal = await postCsr(pos.terminalId, csrPem(pos.terminalId, rsaKey()), pos.headers);
    expect(asTerminal.statusCode).toBe(403);
  });
});

describe('PKCS#12 for terminals that cannot make keys', () => {
  it('opens with openssl pkcs12 under its password, and its certificate chains to the CA', async () => {
    const pos = await retailPos(sys.http);
    const res = await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${pos.terminalId}/pkcs12`, headers: admin, payload: { password: 'correct horse 42' } });
    expect(res.statusCode, res.body).toBe(201);
    const p12 = file('t.p12', Buffer.from(res.json().pkcs12 as string, 'base64'));
    const certs = openssl(['pkcs12', '-in', p12, '-passin', 'pass:correct horse 42', '-nokeys', '-clcerts']);
    const keyOut = openssl(['pkcs12', '-in', p12, '-passin', 'pass:correct horse 42', '-nocerts', '-nodes']);
    expect(keyOut).toContain('PRIVATE KEY');
    expect(openssl(['verify', '-CAfile', file('ca.pem', await caPem()), file('leaf.pem', certs)])).toContain('OK');
    expect(openssl(['x509', '-in', file('leaf.pem', certs), '-noout', '-subject'])).toContain(`CN = ${pos.terminalId}`);
    expect(() => openssl(['pkcs12', '-in', p12, '-passin', 'pass:wrong password', '-nokeys'])).toThrow();
    const short = await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${pos.terminalId}/pkcs12`, headers: admin, payload: { password: 'short' } });
    expect(short.statusCode).toBe(400);
  });
});

describe('blocking a terminal', () => {
  it('revokes its certificates (in the CRL at once, which verifies against the CA) and refuses its API key', async () => {
    const kio = await kiosk(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const e = await enrol(sys.http, kio.terminalId);
    const before = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: kio.headers });
    expect(before.statusCode).toBe(200);
    const crlBefore = await sys.http.inject({ method: 'GET', url: '/v1/pki/crl.pem' });
    expect(crlBefore.statusCode).toBe(200);
    expect(openssl(['crl', '-in', file('crl0.pem', crlBefore.body), '-noout', '-text']).toUpperCase()).not.toContain(e.serialNumber.toUpperCase());

    const blocked = await setStatus(kio.terminalId, 'blocked');
    expect(blocked.statusCode, blocked.body).toBe(200);
    expect(blocked.json().revoked).toEqual([e.serialNumber]);

    const after = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: kio.headers });
    expect(after.statusCode).toBe(401);
    const topup = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kio.headers, payload: { topupId: 'blk-1', cardNo, amount: 100, channel: 'kiosk' } });
    expect(topup.statusCode).toBe(401);

    const crl = await sys.http.inject({ method: 'GET', url: '/v1/pki/crl.pem' });
    const crlFile = file('crl.pem', crl.body);
    const caFile = file('ca.pem', await caPem());
    // openssl prints "verify OK" on stderr: run through a shell to capture both.
    const verify = execFileSync('sh', ['-c', `openssl crl -in "${crlFile}" -CAfile "${caFile}" -verify -noout 2>&1`], { encoding: 'utf8' });
    expect(verify).toContain('verify OK');
    const text = openssl(['crl', '-in', crlFile, '-noout', '-text']);
    expect(text.toUpperCase()).toContain(`SERIAL NUMBER: ${e.serialNumber.toUpperCase()}`);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    // A tampered CRL does not verify: the check above can fail.
    const der = Buffer.from(crl.body.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1); // the signature's last byte
    const tampered = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
    const bad = execFileSync('sh', ['-c', `openssl crl -in "${file('bad.pem', tampered)}" -CAfile "${caFile}" -verify -noout 2>&1 || true`], { encoding: 'utf8' });
    expect(bad).not.toContain('verify OK');

    // Enrolling a blocked terminal is refused; reactivating lets the API key in again, the old certificate stays revoked.
    expect((await postCsr(kio.terminalId, csrPem(kio.terminalId, rsaKey()))).statusCode).toBe(409);
    expect((await setStatus(kio.terminalId, 'active')).statusCode).toBe(200);
    const again = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: kio.headers });
    expect(again.statusCode).toBe(200);
    const row = await sys.pool.query(`SELECT revoked_at FROM terminal_certificates WHERE serial = $1`, [e.serialNumber]);
    expect(row.rows[0].revoked_at).not.toBeNull();
    expect((await setStatus('NOSUCH02', 'blocked')).statusCode).toBe(404);
  });

  it('takes effect at once in another process sharing the database and Redis (its cached API key is dropped)', async () => {
    const other: System = await buildSystem(testConfig(sys.dbName), { logger: createLogger('silent') });
    try {
      await other.start();
      const kio = await kiosk(sys.http);
      const { cardNo } = await issueCard(sys.http, { balance: 1000 });
      const warm = await other.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: kio.headers });
      expect(warm.statusCode).toBe(200); // now cached in the other process for 30 s
      expect((await setStatus(kio.terminalId, 'blocked')).statusCode).toBe(200);
      const deadline = Date.now() + 3_000;
      let status = 200;
      while (Date.now() < deadline) {
        status = (await other.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: kio.headers })).statusCode;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('the CA key at rest', () => {
  it('is stored only encrypted under MASTER_KEY, and never logged', async () => {
    const r = await sys.pool.query(`SELECT cert_pem, key_enc FROM pki_ca`);
    expect(r.rows).toHaveLength(1);
    const keyEnc = r.rows[0].key_enc as Buffer;
    const keyPem = sys.pki.pki.ca.keyPem;
    const keyDer = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(keyEnc.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    expect(keyEnc.includes(keyDer.subarray(0, 64))).toBe(false);
    expect(sys.secrets.decrypt(keyEnc).toString('utf8')).toBe(keyPem);
    // Nowhere else in the database: no text or bytea column holds the key's PEM or DER.
    const columns = await sys.pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'jsonb')`,
    );
    const body = keyPem.split('\n')[1]!;
    for (const c of columns.rows) {
      const hit = await sys.pool.query(`SELECT 1 FROM "${c.table_name}" WHERE position($1 in "${c.column_name}"::text) > 0 LIMIT 1`, [body]);
      expect(hit.rowCount, `${c.table_name}.${c.column_name}`).toBe(0);
    }
    const logs = sys.logLines.join('');
    expect(logs).toContain('pki: terminal CA created');
    expect(logs).not.toContain('PRIVATE KEY');
    expect(logs).not.toContain(body);
  });

  it('is created once when processes start together (insert if absent)', async () => {
    await sys.pool.query(`DELETE FROM pki_ca`);
    const make = () => new TerminalPki({ store: new PkiStore(sys.pool), registry: sys.registry, secrets: sys.secrets, clock: sys.clock, log: createLogger('silent') });
    const [a, b] = [make(), make()];
    await Promise.all([a.start(), b.start()]);
    expect(a.caPem).toBe(b.caPem);
    const r = await sys.pool.query(`SELECT count(*)::int AS n, min(cert_pem) AS pem FROM pki_ca`);
    expect(r.rows[0]).toEqual({ n: 1, pem: a.caPem });
    expect(a.ca.keyPem).toBe(b.ca.keyPem);
  });
});
