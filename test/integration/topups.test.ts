// Top-ups against real PostgreSQL and Redis: idempotency, concurrency, bad input (issue: foundation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos, busValidator, type RegisteredTerminal } from '../support/fixtures.js';

let sys: TestSystem;
let kioskT: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem();
  kioskT = await kiosk(sys.http);
});
afterAll(async () => sys.destroy());

async function balanceOf(cardNo: string): Promise<number> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json().purse as number;
}

async function transfersFor(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1`, [cardNo]);
  return r.rows[0].n as number;
}

describe('POST /v1/topups', () => {
  it('is idempotent: same id and body answers the same and moves nothing more', async () => {
    const { cardNo } = await issueCard(sys.http);
    const body = { topupId: 'k-1', cardNo, amount: 2500, channel: 'kiosk' };
    const first = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: body });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ approved: true, code: '00', balance: 2500 });
    const second = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: body });
    expect(second.json()).toEqual(first.json());
    expect(await balanceOf(cardNo)).toBe(2500);
    expect(await transfersFor(cardNo)).toBe(1);
  });

  it('answers 409 for the same id with another amount, and moves nothing', async () => {
    const { cardNo } = await issueCard(sys.http);
    await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: { topupId: 'k-2', cardNo, amount: 100, channel: 'kiosk' } });
    const again = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: { topupId: 'k-2', cardNo, amount: 200, channel: 'kiosk' } });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json().code).toBe('94');
    expect(await balanceOf(cardNo)).toBe(100);
  });

  it('moves money once for 50 concurrent identical top-ups', async () => {
    const { cardNo } = await issueCard(sys.http);
    const body = { topupId: 'k-concurrent', cardNo, amount: 700, channel: 'kiosk' };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: body })),
    );
    const ids = new Set(answers.map((a) => a.json().transactionId));
    expect(answers.every((a) => a.statusCode === 200 && a.json().approved === true)).toBe(true);
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.json().balance === 700)).toBe(true);
    expect(await balanceOf(cardNo)).toBe(700);
    expect(await transfersFor(cardNo)).toBe(1);
    const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
  });

  it('still answers a replay from the ledger after the Redis record is lost', async () => {
    const { cardNo } = await issueCard(sys.http);
    const body = { topupId: 'k-lost', cardNo, amount: 300, channel: 'kiosk' };
    const first = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: body });
    await sys.redis.del(sys.keys.cardOp(cardNo, 'topup', `${kioskT.terminalId}/k-lost`)); // ids are scoped to the terminal (DESIGN §11)
    const second = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: body });
    expect(second.json().transactionId).toBe(first.json().transactionId);
    expect(await balanceOf(cardNo)).toBe(300);
    expect(await transfersFor(cardNo)).toBe(1);
  });
});

describe('bad input moves nothing', () => {
  let cardNo: string;
  beforeAll(async () => {
    ({ cardNo } = await issueCard(sys.http, { balance: 1000 }));
  });

  const post = (payload: unknown, headers = kioskT.headers) =>
    sys.http.inject({ method: 'POST', url: '/v1/topups', headers: { ...headers, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

  it('malformed JSON → 400 problem', async () => {
    const res = await post('{"topupId": "x", "cardNo": ');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, code: '30' });
  });

  it('missing fields → 400', async () => {
    const res = await post({ topupId: 'm-1', amount: 100, channel: 'kiosk' });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/cardNo/);
  });

  it('non-integer amount → 400', async () => {
    expect((await post({ topupId: 'm-2', cardNo, amount: 12.5, channel: 'kiosk' })).statusCode).toBe(400);
    expect((await post({ topupId: 'm-2s', cardNo, amount: '100', channel: 'kiosk' })).statusCode).toBe(400);
  });

  it('zero or negative amount → 400', async () => {
    expect((await post({ topupId: 'm-3', cardNo, amount: 0, channel: 'kiosk' })).statusCode).toBe(400);
    expect((await post({ topupId: 'm-4', cardNo, amount: -5, channel: 'kiosk' })).statusCode).toBe(400);
  });

  it('amount above the configured maximum → declined 13', async () => {
    const res = await post({ topupId: 'm-5', cardNo, amount: Number(sys.config.topupAmountMaxFen) + 1, channel: 'kiosk' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ approved: false, code: '13' });
  });

  it('Luhn-invalid card → declined 14', async () => {
    const bad = cardNo.slice(0, 15) + String((Number(cardNo[15]) + 1) % 10);
    const res = await post({ topupId: 'm-6', cardNo: bad, amount: 100, channel: 'kiosk' });
    expect(res.json()).toEqual({ approved: false, code: '14' });
  });

  it('unknown (Luhn-valid) card → declined 14', async () => {
    const res = await post({ topupId: 'm-7', cardNo: '6200999999999995', amount: 100, channel: 'kiosk' });
    expect(res.json()).toEqual({ approved: false, code: '14' });
  });

  it('none of the above moved money', async () => {
    expect(await balanceOf(cardNo)).toBe(1000);
    expect(await transfersFor(cardNo)).toBe(1);
  });
});

describe('authentication and permissions', () => {
  it('no token or a wrong token → 401', async () => {
    expect((await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance' })).statusCode).toBe(401);
    expect((await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    expect((await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: { authorization: 'Bearer cck_forged' }, payload: {} })).statusCode).toBe(401);
  });

  it('a terminal token on an admin call → 403', async () => {
    const res = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: kioskT.headers });
    expect(res.statusCode).toBe(403);
  });

  it('a terminal kind that may not do a call → code 58', async () => {
    const { cardNo } = await issueCard(sys.http);
    const bus = await busValidator(sys.http);
    const res = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: bus.headers, payload: { topupId: 'p-1', cardNo, amount: 100, channel: 'kiosk' } });
    expect(res.json()).toEqual({ approved: false, code: '58' });
    const pos = await retailPos(sys.http);
    const wrongChannel = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: pos.headers, payload: { topupId: 'p-2', cardNo, amount: 100, channel: 'kiosk' } });
    expect(wrongChannel.json()).toEqual({ approved: false, code: '58' });
    const counter = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: pos.headers, payload: { topupId: 'p-3', cardNo, amount: 100, channel: 'counter' } });
    expect(counter.json()).toMatchObject({ approved: true, code: '00', balance: 100 });
  });
});
