// Mutual TLS over real sockets (issue 14): ISO 8583 on ISO_TLS_PORT and the terminal API on
// HTTPS_PORT accept an enrolled terminal's certificate; no certificate, a self-signed one, an
// expired one, a revoked one (after blocking) and one whose CN is not F41 are refused and move nothing.
import https from 'node:https';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { enrol, expiredFromCa, selfSigned, type Enrolled } from '../support/pki.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

let sys: TestSystem;
let caPem: string;
let stanSeq = 500;

beforeAll(async () => {
  sys = await createTestSystem();
  caPem = (await sys.http.inject({ method: 'GET', url: '/v1/pki/ca.pem' })).body;
  expect(sys.pki.isoTlsPort).toBeGreaterThan(0);
  expect(sys.pki.httpsPort).toBeGreaterThan(0);
});
afterAll(async () => {
  await sys?.destroy();
});

type Credentials = { key: string; cert: string } | Record<string, never>;
const credsOf = (e: { key: { privatePem: string }; certPem: string }): Credentials => ({ key: e.key.privatePem, cert: e.certPem });

async function purse(cardNo: string): Promise<number> {
  return (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json().purse as number;
}

async function transfers(cardNo: string): Promise<number> {
  return (await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1`, [cardNo])).rows[0].n as number;
}

function purchase(t: RegisteredTerminal, cardNo: string, amountFen: number, f41 = t.terminalId): Map<number, FieldValue> {
  return new Map<number, FieldValue>([
    [2, cardNo],
    [3, '000000'],
    [4, amountField(BigInt(amountFen))],
    [7, transmissionDateTime(new Date())],
    [11, String(++stanSeq).padStart(6, '0')],
    [41, f41],
    [42, merchantField('M0000000000001')],
    [49, '156'],
  ]);
}

function connectIso(creds: Credentials): Promise<IsoClient> {
  return IsoClient.connectTls('127.0.0.1', sys.pki.isoTlsPort, { ca: caPem, ...creds });
}

/** Refused at the handshake (connect fails) or right after it (the first request finds the connection closed). */
async function isoRefused(creds: Credentials, t: RegisteredTerminal, cardNo: string): Promise<void> {
  let client: IsoClient;
  try {
    client = await connectIso(creds);
  } catch (error) {
    expect(String(error)).toMatch(/alert|certificate|ECONNRESET|socket hang up|closed/i);
    return;
  }
  try {
    await expect(client.request({ mti: '0200', fields: purchase(t, cardNo, 100) }, Buffer.from(t.mak, 'hex'), 5_000)).rejects.toThrow(/alert|certificate|closed|ECONNRESET/i);
  } finally {
    client.close();
  }
}

interface HttpsAnswer {
  status: number;
  body: Record<string, unknown>;
}

function httpsPost(url: string, payload: unknown, creds: Credentials, headers: Record<string, string> = {}): Promise<HttpsAnswer> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: sys.pki.httpsPort, path: url, method: 'POST', ca: caPem, ...creds, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } } as https.RequestOptions & tls.ConnectionOptions,
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Refused at the handshake (the request fails) or, after it, by the certificate check (401). */
async function httpsRefused(creds: Credentials, cardNo: string, paymentId: string): Promise<void> {
  const outcome = await httpsPost('/v1/payments', { paymentId, cardNo, amount: 100 }, creds).then(
    (res) => res.status,
    (error: unknown) => String(error),
  );
  if (typeof outcome === 'number') expect(outcome).toBe(401);
  else expect(outcome).toMatch(/alert|certificate|ECONNRESET|socket hang up/i);
}

describe('ISO 8583 over mutual TLS', () => {
  let pos: RegisteredTerminal;
  let enrolled: Enrolled;
  let cardNo: string;

  beforeAll(async () => {
    pos = await retailPos(sys.http);
    enrolled = await enrol(sys.http, pos.terminalId);
    ({ cardNo } = await issueCard(sys.http, { balance: 10_000 }));
  });

  it('approves a purchase from the enrolled terminal and debits the purse', async () => {
    const client = await connectIso(credsOf(enrolled));
    try {
      const res = await client.request({ mti: '0200', fields: purchase(pos, cardNo, 1250) }, Buffer.from(pos.mak, 'hex'));
      expect(res.mti).toBe('0210');
      expect(fieldText(res, 39)).toBe('00');
    } finally {
      client.close();
    }
    expect(await purse(cardNo)).toBe(8750);
  });

  it('refuses no certificate, a self-signed one and an expired one from the CA, and nothing moves', async () => {
    const before = [await purse(cardNo), await transfers(cardNo)];
    await isoRefused({}, pos, cardNo);
    await isoRefused(credsOf(selfSigned(pos.terminalId)), pos, cardNo);
    await isoRefused(credsOf(await expiredFromCa(sys, pos.terminalId)), pos, cardNo);
    expect([await purse(cardNo), await transfers(cardNo)]).toEqual(before);
  });

  it('answers 58 when F41 is not the certificate CN, even with the other terminal MAC, and nothing moves', async () => {
    const other = await retailPos(sys.http);
    const before = [await purse(cardNo), await transfers(cardNo)];
    const client = await connectIso(credsOf(enrolled));
    try {
      const res: IsoMessage = await client.request({ mti: '0200', fields: purchase(other, cardNo, 300) }, Buffer.from(other.mak, 'hex'));
      expect(fieldText(res, 39)).toBe('58');
      // The connection still serves its own terminal.
      const own = await client.request({ mti: '0200', fields: purchase(pos, cardNo, 0 + 50) }, Buffer.from(pos.mak, 'hex'));
      expect(fieldText(own, 39)).toBe('00');
    } finally {
      client.close();
    }
    expect(await purse(cardNo)).toBe((before[0] as number) - 50);
  });

  it('blocking closes the open mTLS connection and its revoked certificate is refused afterwards', async () => {
    const victim = await retailPos(sys.http);
    const e = await enrol(sys.http, victim.terminalId);
    const client = await connectIso(credsOf(e));
    const ok = await client.request({ mti: '0200', fields: purchase(victim, cardNo, 10) }, Buffer.from(victim.mak, 'hex'));
    expect(fieldText(ok, 39)).toBe('00');
    const before = [await purse(cardNo), await transfers(cardNo)];
    const blocked = await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${victim.terminalId}/status`, headers: admin, payload: { status: 'blocked' } });
    expect(blocked.statusCode).toBe(200);
    await Promise.race([client.whenClosed(), new Promise((_r, reject) => setTimeout(() => reject(new Error('connection not closed')), 3_000))]);
    expect(client.closed).toBe(true);
    await isoRefused(credsOf(e), victim, cardNo);
    // Reactivated, the terminal is active again but its revoked certificate stays refused.
    await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${victim.terminalId}/status`, headers: admin, payload: { status: 'active' } });
    await isoRefused(credsOf(e), victim, cardNo);
    expect([await purse(cardNo), await transfers(cardNo)]).toEqual(before);
  });

  it('blocking also closes a plain-port connection of the terminal', async () => {
    const plain = await retailPos(sys.http);
    const client = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const ok = await client.request({ mti: '0200', fields: purchase(plain, cardNo, 10) }, Buffer.from(plain.mak, 'hex'));
    expect(fieldText(ok, 39)).toBe('00');
    await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${plain.terminalId}/status`, headers: admin, payload: { status: 'blocked' } });
    await Promise.race([client.whenClosed(), new Promise((_r, reject) => setTimeout(() => reject(new Error('connection not closed')), 3_000))]);
    const again = await IsoClient.connect('127.0.0.1', sys.iso.port);
    try {
      const res = await again.request({ mti: '0200', fields: purchase(plain, cardNo, 10) }, Buffer.from(plain.mak, 'hex'));
      expect(fieldText(res, 39)).toBe('58');
    } finally {
      again.close();
    }
  });
});

describe('the terminal API over HTTPS with client certificates', () => {
  let pos: RegisteredTerminal;
  let enrolled: Enrolled;
  let cardNo: string;

  beforeAll(async () => {
    pos = await retailPos(sys.http);
    enrolled = await enrol(sys.http, pos.terminalId);
    ({ cardNo } = await issueCard(sys.http, { balance: 10_000 }));
  });

  it('approves a payment with the certificate alone (no bearer) and with the same terminal bearer', async () => {
    const res = await httpsPost('/v1/payments', { paymentId: 'tls-1', cardNo, amount: 700 }, credsOf(enrolled));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.approved).toBe(true);
    expect(res.body.balance).toBe(9300);
    const withKey = await httpsPost('/v1/payments', { paymentId: 'tls-2', cardNo, amount: 300 }, credsOf(enrolled), pos.headers);
    expect(withKey.status).toBe(200);
    expect(withKey.body.balance).toBe(9000);
  });

  it('refuses no certificate, a self-signed one, an expired one, and another terminal or admin bearer; nothing moves', async () => {
    const other = await retailPos(sys.http);
    const before = [await purse(cardNo), await transfers(cardNo)];
    await httpsRefused({}, cardNo, 'tls-x1');
    await httpsRefused(credsOf(selfSigned(pos.terminalId)), cardNo, 'tls-x2');
    await httpsRefused(credsOf(await expiredFromCa(sys, pos.terminalId)), cardNo, 'tls-x3');
    const foreign = await httpsPost('/v1/payments', { paymentId: 'tls-x4', cardNo, amount: 100 }, credsOf(enrolled), other.headers);
    expect(foreign.status).toBe(401);
    expect(String(foreign.body.detail)).toContain('not terminal');
    const asAdmin = await httpsPost('/v1/payments', { paymentId: 'tls-x5', cardNo, amount: 100 }, credsOf(enrolled), admin);
    expect(asAdmin.status).toBe(401);
    expect([await purse(cardNo), await transfers(cardNo)]).toEqual(before);
  });

  it('refuses the revoked certificate of a blocked terminal, and nothing moves', async () => {
    const victim = await retailPos(sys.http);
    const e = await enrol(sys.http, victim.terminalId);
    const ok = await httpsPost('/v1/payments', { paymentId: 'tls-v1', cardNo, amount: 100 }, credsOf(e));
    expect(ok.body.approved).toBe(true);
    const before = [await purse(cardNo), await transfers(cardNo)];
    await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${victim.terminalId}/status`, headers: admin, payload: { status: 'blocked' } });
    await httpsRefused(credsOf(e), cardNo, 'tls-v2');
    await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${victim.terminalId}/status`, headers: admin, payload: { status: 'active' } });
    await httpsRefused(credsOf(e), cardNo, 'tls-v3');
    expect([await purse(cardNo), await transfers(cardNo)]).toEqual(before);
  });
});

describe('TERMINAL_TLS_ONLY=1', () => {
  let strict: TestSystem;
  beforeAll(async () => {
    strict = await createTestSystem({ env: { TERMINAL_TLS_ONLY: '1' } });
  });
  afterAll(async () => {
    await strict?.destroy();
  });

  it('does not open the plain ISO port and refuses terminal API keys on the plain HTTP port', async () => {
    expect(strict.iso.port).toBe(0);
    expect(strict.pki.isoTlsPort).toBeGreaterThan(0);
    const pos = await retailPos(strict.http);
    const { cardNo } = await issueCard(strict.http, { balance: 1000 });
    const res = await strict.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'plain-1', cardNo, amount: 100 } });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/mutual TLS/);
    const adminStill = await strict.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
    expect(adminStill.json().purse).toBe(1000);
  });
});
