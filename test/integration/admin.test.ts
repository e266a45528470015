// Admin API, card reads and operations endpoints against real PostgreSQL and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, idNumber, issueCard, kiosk, retailPos } from '../support/fixtures.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => sys.destroy());

const inject = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = admin) =>
  sys.http.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

describe('registry', () => {
  it('loads the policy file operators and merchants at start', async () => {
    const r = await sys.pool.query(`SELECT (SELECT count(*) FROM operators)::int AS o, (SELECT count(*) FROM merchants)::int AS m`);
    expect(r.rows[0]).toEqual({ o: 3, m: 4 });
  });

  it('creates operators and merchants idempotently and refuses other content with 409', async () => {
    const op = { operatorId: 'NEWBUS', name: 'New Bus Co', mode: 'bus', commissionRate: '0.0040' };
    expect((await inject('POST', '/v1/admin/operators', op)).statusCode).toBe(201);
    expect((await inject('POST', '/v1/admin/operators', op)).statusCode).toBe(201);
    expect((await inject('POST', '/v1/admin/operators', { ...op, name: 'Other' })).statusCode).toBe(409);
    const m = { merchantId: 'M9', name: 'Tea House', category: 'retail', mcc: '5814' };
    expect((await inject('POST', '/v1/admin/merchants', m)).statusCode).toBe(201);
    expect((await inject('POST', '/v1/admin/merchants', { ...m, category: 'medical' })).statusCode).toBe(409);
    expect((await inject('POST', '/v1/admin/merchants', { ...m, mcc: '58' })).statusCode).toBe(400);
  });

  it('registers terminals with an api key and 32-hex keys shown once; a second registration is 409', async () => {
    const res = await inject('POST', '/v1/admin/terminals', { terminalId: 'POSX0001', kind: 'pos', merchantId: 'M0000000000001' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.terminalId).toBe('POSX0001');
    expect(body.apiKey).toMatch(/^cck_/);
    expect(body.mak).toMatch(/^[0-9a-f]{32}$/);
    const row = await sys.pool.query(`SELECT api_key_hash, keys_enc FROM terminals WHERE terminal_id = 'POSX0001'`);
    expect(row.rows[0].keys_enc.toString('latin1')).not.toContain(body.mak);
    expect((await inject('POST', '/v1/admin/terminals', { terminalId: 'POSX0001', kind: 'pos', merchantId: 'M0000000000001' })).statusCode).toBe(409);
    expect((await inject('POST', '/v1/admin/terminals', { terminalId: 'SHORT', kind: 'pos', merchantId: 'M0000000000001' })).statusCode).toBe(400);
    expect((await inject('POST', '/v1/admin/terminals', { terminalId: 'POSX0002', kind: 'pos' })).statusCode).toBe(400);
    expect((await inject('POST', '/v1/admin/terminals', { terminalId: 'POSX0003', kind: 'pos', merchantId: 'NOPE' })).statusCode).toBe(404);
  });

  it('stores the id number encrypted and masked, never in clear', async () => {
    const id = idNumber();
    const res = await inject('POST', '/v1/admin/citizens', { name: 'Han Meimei', idNumber: id, insured: true });
    expect(res.statusCode).toBe(201);
    const again = await inject('POST', '/v1/admin/citizens', { name: 'Han Meimei', idNumber: id });
    expect(again.statusCode).toBe(200);
    expect(again.json().citizenId).toBe(res.json().citizenId);
    const row = await sys.pool.query(`SELECT * FROM citizens WHERE citizen_id = $1`, [res.json().citizenId]);
    const dump = JSON.stringify(row.rows[0], (_k, v) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('latin1') : v));
    expect(dump).not.toContain(id);
    expect(row.rows[0].id_number_masked).toBe(`${id.slice(0, 3)}***********${id.slice(-4)}`);
    expect((await inject('POST', '/v1/admin/citizens', { name: 'X', idNumber: '123' })).statusCode).toBe(400);
  });

  it('issues Luhn-valid 16-digit cards with a slow PIN hash', async () => {
    const { cardNo } = await issueCard(sys.http, { pin: '246810' });
    expect(cardNo).toMatch(/^[0-9]{16}$/);
    const row = await sys.pool.query(`SELECT pin_hash, status FROM cards WHERE card_no = $1`, [cardNo]);
    expect(row.rows[0].pin_hash).toMatch(/^scrypt\$16384\$/);
    expect(row.rows[0].status).toBe('active');
    expect((await inject('POST', '/v1/admin/cards', { citizenId: 999999, cardType: 'adult' })).statusCode).toBe(404);
    expect((await inject('POST', '/v1/admin/cards', { citizenId: 1, cardType: 'vip' })).statusCode).toBe(400);
  });
});

describe('card status, balance and history', () => {
  it('a lost card is declined with 41 at once and joins the hotlist', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const pos = await retailPos(sys.http);
    expect((await inject('POST', `/v1/admin/cards/${cardNo}/status`, { status: 'lost' })).statusCode).toBe(200);
    const pay = await inject('POST', '/v1/payments', { paymentId: 'lost-1', cardNo, amount: 100 }, pos.headers);
    expect(pay.json()).toEqual({ approved: false, code: '41' });
    const hot = await sys.pool.query(`SELECT listed, reason FROM hotlist_changes WHERE card_no = $1`, [cardNo]);
    expect(hot.rows).toEqual([{ listed: true, reason: 'lost' }]);
    expect((await inject('POST', `/v1/admin/cards/${cardNo}/status`, { status: 'blocked' })).statusCode).toBe(200);
    expect((await inject('POST', '/v1/payments', { paymentId: 'lost-2', cardNo, amount: 100 }, pos.headers)).json().code).toBe('43');
    expect((await inject('POST', `/v1/admin/cards/${cardNo}/status`, { status: 'active' })).statusCode).toBe(200);
    expect((await inject('POST', '/v1/payments', { paymentId: 'lost-3', cardNo, amount: 100 }, pos.headers)).json()).toMatchObject({ approved: true, balance: 900 });
  });

  it('pages a card history newest first with a cursor', async () => {
    const { cardNo } = await issueCard(sys.http);
    const k = await kiosk(sys.http);
    for (let i = 1; i <= 5; i++) {
      const r = await inject('POST', '/v1/topups', { topupId: `h-${i}`, cardNo, amount: i * 100, channel: 'kiosk' }, k.headers);
      expect(r.json().approved).toBe(true);
    }
    const first = await inject('GET', `/v1/cards/${cardNo}/transactions?limit=2`, undefined, k.headers);
    expect(first.statusCode).toBe(200);
    const p1 = first.json();
    expect(p1.items.map((i: { amount: number }) => i.amount)).toEqual([500, 400]);
    expect(p1.items[0]).toMatchObject({ kind: 'topup', reference: 'h-5', account: 'purse' });
    const second = (await inject('GET', `/v1/cards/${cardNo}/transactions?limit=2&cursor=${p1.nextCursor}`, undefined, k.headers)).json();
    expect(second.items.map((i: { amount: number }) => i.amount)).toEqual([300, 200]);
    const third = (await inject('GET', `/v1/cards/${cardNo}/transactions?limit=2&cursor=${second.nextCursor}`, undefined, k.headers)).json();
    expect(third.items.map((i: { amount: number }) => i.amount)).toEqual([100]);
    expect(third.nextCursor).toBeNull();
    const bal = (await inject('GET', `/v1/cards/${cardNo}/balance`, undefined, k.headers)).json();
    expect(bal).toEqual({ cardNo, status: 'active', purse: 1500, medical: 0 });
  });

  it('answers 404 with code 14 for unknown cards and 400 for malformed ones', async () => {
    expect((await inject('GET', '/v1/cards/6200999999999995/balance')).json().code).toBe('14');
    expect((await inject('GET', '/v1/cards/12ab/balance')).statusCode).toBe(400);
  });

  it('credits the medical account from the fund, idempotently', async () => {
    const { cardNo } = await issueCard(sys.http);
    const body = { creditId: 'alloc-2026-11', amount: 20000 };
    const a = await inject('POST', `/v1/admin/medical-accounts/${cardNo}/credit`, body);
    const b = await inject('POST', `/v1/admin/medical-accounts/${cardNo}/credit`, body);
    expect(a.json()).toMatchObject({ approved: true, code: '00', medical: 20000 });
    expect(b.json()).toEqual(a.json());
    expect((await inject('POST', `/v1/admin/medical-accounts/${cardNo}/credit`, { ...body, amount: 1 })).statusCode).toBe(409);
    const tb = (await inject('GET', '/v1/admin/trial-balance')).json();
    expect(tb.balanced).toBe(true);
    expect(tb.accounts.find((a: { kind: string }) => a.kind === 'medical_fund').balance).toBeLessThanOrEqual(-20000);
  });
});

describe('operations endpoints', () => {
  it('serves health, metrics and the OpenAPI document', async () => {
    expect((await inject('GET', '/health/live', undefined, {})).json()).toEqual({ status: 'ok' });
    expect((await inject('GET', '/health/ready', undefined, {})).json()).toMatchObject({ status: 'ready', postgres: 'ok', redis: 'ok', recovery: 'done' });
    const metrics = await inject('GET', '/metrics', undefined, {});
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('http_request_duration_seconds');
    const doc = (await inject('GET', '/docs/json', undefined, {})).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/topups', '/v1/payments', '/v1/admin/terminals', '/v1/cards/{cardNo}/balance']));
  });

  it('never writes a full card number, PIN or key to the log', async () => {
    const { cardNo } = await issueCard(sys.http, { pin: '135790', balance: 100 });
    const pos = await retailPos(sys.http);
    await inject('POST', '/v1/payments', { paymentId: 'log-1', cardNo, amount: 1 }, pos.headers);
    await inject('GET', `/v1/cards/${cardNo}/balance/nope`, undefined, pos.headers);
    const all = sys.logLines.join('\n');
    expect(all).not.toContain(cardNo);
    expect(all).not.toContain('135790');
    expect(all).not.toContain(pos.mak);
    expect(all).not.toContain(pos.apiKey);
  });
});

describe('bodies of calls that take {}', () => {
  it('accepts no body, an empty JSON body and {} alike for a reversal; malformed JSON stays 400', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const pos = await retailPos(sys.http);
    for (const [i, variant] of [{}, { 'content-type': 'application/json' }, undefined].entries()) {
      const paymentId = `empty-${i}`;
      expect((await inject('POST', '/v1/payments', { paymentId, cardNo, amount: 100 }, pos.headers)).json().approved).toBe(true);
      const res = await sys.http.inject({
        method: 'POST',
        url: `/v1/payments/${paymentId}/reverse`,
        headers: { ...pos.headers, ...(variant ?? {}) },
        ...(variant === undefined ? { payload: {} } : {}),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ approved: true, code: '00', balance: 1000 });
    }
    const bad = await sys.http.inject({ method: 'POST', url: '/v1/payments/x/reverse', headers: { ...pos.headers, 'content-type': 'application/json' }, payload: '{"a":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('30');
  });
});
