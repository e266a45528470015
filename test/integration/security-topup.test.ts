// Hole 1 of the security review (docs/security.md "Who can call what"): no call authenticated only by
// a citizen's JWT moves money into a purse. A citizen's top-up is an order that moves nothing until
// a kiosk terminal or the bank channel confirms it, once.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { openOrdersPerCardMax, topupOrderTtlMs } from '../../src/app/topup-orders.js';
import { citizenLogin } from './citizen-support.js';

const clock = fixedClock(new Date());
let sys: TestSystem;
let kioskA: RegisteredTerminal;
let kioskB: RegisteredTerminal;
let pos: RegisteredTerminal;
const pin = '531864';

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  kioskA = await kiosk(sys.http);
  kioskB = await kiosk(sys.http);
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

async function purse(cardNo: string): Promise<number> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json().purse as number;
}

async function balanced(): Promise<void> {
  const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
  expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
}

async function topupsOf(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE op_kind = 'topup' AND card_no = $1`, [cardNo]);
  return r.rows[0].n as number;
}

async function citizen(balance = 10_000) {
  const { cardNo } = await issueCard(sys.http, { pin, balance });
  return { cardNo, auth: await citizenLogin(sys.http, cardNo, pin) };
}

const createOrder = (auth: { authorization: string }, amount: number) => sys.http.inject({ method: 'POST', url: '/v1/citizen/topup-orders', headers: auth, payload: { amount } });
const kioskConfirm = (t: RegisteredTerminal, orderId: string, amount: number) =>
  sys.http.inject({ method: 'POST', url: `/v1/topup-orders/${orderId}/confirm`, headers: t.headers, payload: { amount } });
const bankConfirm = (orderId: string, amount: number, channel = 'bank') =>
  sys.http.inject({ method: 'POST', url: `/v1/admin/topup-orders/${orderId}/confirm`, headers: admin, payload: { amount, channel } });

describe('money from nothing: the citizen JWT alone', () => {
  it('the old direct top-up answers 410 and moves nothing (five calls of 100,000 fen)', async () => {
    const { cardNo, auth } = await citizen(10_000);
    for (let i = 0; i < 5; i++) {
      const res = await sys.http.inject({ method: 'POST', url: '/v1/citizen/topup', headers: auth, payload: { topupId: `free-${i}`, amount: 100_000 } });
      expect(res.statusCode, res.body).toBe(410);
      expect(res.json().code).toBe('12');
    }
    expect(await purse(cardNo)).toBe(10_000);
    expect(await topupsOf(cardNo)).toBe(1); // the initial bank top-up only
    await balanced();
  });

  it('a citizen cannot use the terminal or admin top-up calls, nor confirm its own order', async () => {
    const { cardNo, auth } = await citizen(10_000);
    const direct = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: auth, payload: { topupId: 'c-1', cardNo, amount: 100_000, channel: 'kiosk' } });
    expect(direct.statusCode).toBe(403);
    const order = (await createOrder(auth, 100_000)).json();
    expect((await sys.http.inject({ method: 'POST', url: `/v1/topup-orders/${order.orderId}/confirm`, headers: auth, payload: { amount: 100_000 } })).statusCode).toBe(403);
    expect((await sys.http.inject({ method: 'POST', url: `/v1/admin/topup-orders/${order.orderId}/confirm`, headers: auth, payload: { amount: 100_000, channel: 'bank' } })).statusCode).toBe(403);
    expect(await purse(cardNo)).toBe(10_000);
    await balanced();
  });

  it('creating orders moves nothing, and a card holds at most a few open orders (429/65)', async () => {
    const { cardNo, auth } = await citizen(10_000);
    for (let i = 0; i < openOrdersPerCardMax; i++) {
      const res = await createOrder(auth, 100_000);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ amount: 100_000, status: 'pending', channel: null, transactionId: null });
      expect(res.json().orderId).toMatch(/^[0-9a-f]{32}$/);
    }
    const more = await createOrder(auth, 100_000);
    expect(more.statusCode).toBe(429);
    expect(more.json().code).toBe('65');
    expect(await purse(cardNo)).toBe(10_000);
    expect(await topupsOf(cardNo)).toBe(1);
    await balanced();
  });

  it('refuses bad amounts at the edge (400/30) and above the top-up maximum (400/13)', async () => {
    const { auth } = await citizen();
    for (const amount of [0, -5, 1.5, '100', null]) {
      const res = await sys.http.inject({ method: 'POST', url: '/v1/citizen/topup-orders', headers: auth, payload: { amount } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('30');
    }
    const over = await createOrder(auth, Number(sys.config.topupAmountMaxFen) + 1);
    expect(over.statusCode).toBe(400);
    expect(over.json().code).toBe('13');
  });
});

describe('confirming an order', () => {
  it('the kiosk terminal confirms once: replays answer the same, money moves once, from the kiosk clearing account', async () => {
    const { cardNo, auth } = await citizen(10_000);
    const clearing = async () => (await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'clearing' AND owner_id = 'kiosk'`)).rows[0]?.balance ?? 0n;
    const before = await clearing();
    const order = (await createOrder(auth, 2_000)).json();
    const first = await kioskConfirm(kioskA, order.orderId, 2_000);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ approved: true, code: '00', orderId: order.orderId, status: 'confirmed', balance: 12_000 });
    expect(first.json().cardNo).not.toBe(cardNo); // masked
    const again = await kioskConfirm(kioskA, order.orderId, 2_000);
    expect(again.json()).toEqual(first.json());
    expect(await purse(cardNo)).toBe(12_000);
    expect(await clearing()).toBe(before - 2_000n);
    const seen = await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${order.orderId}`, headers: auth });
    expect(seen.json()).toMatchObject({ status: 'confirmed', channel: 'kiosk', code: '00', transactionId: first.json().transactionId });
    // (The command id may carry a terminal scope besides: matched by its order part.)
    const rows = await sys.pool.query(`SELECT op_id, terminal_id, detail->>'channel' AS channel FROM transfers WHERE op_kind = 'topup' AND card_no = $1 AND op_id LIKE '%order-%'`, [cardNo]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ terminal_id: kioskA.terminalId, channel: 'kiosk' });
    expect(rows.rows[0].op_id).toContain(`order-${order.orderId}`);
    await balanced();
  });

  it('30 concurrent confirmations from two kiosks and the bank move the money once', async () => {
    const { cardNo, auth } = await citizen(10_000);
    const order = (await createOrder(auth, 5_000)).json();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? kioskConfirm(kioskA, order.orderId, 5_000) : i % 3 === 1 ? kioskConfirm(kioskB, order.orderId, 5_000) : bankConfirm(order.orderId, 5_000))),
    );
    const approved = answers.filter((a) => a.statusCode === 200 && a.json().approved);
    const refused = answers.filter((a) => a.statusCode === 409);
    expect(approved.length + refused.length).toBe(30);
    expect(new Set(approved.map((a) => a.json().transactionId)).size).toBe(1);
    expect(refused.every((a) => a.json().code === '94')).toBe(true);
    expect(await purse(cardNo)).toBe(15_000);
    expect(await topupsOf(cardNo)).toBe(2);
    await balanced();
  });

  it('the bank channel (admin) confirms through bank or app; a wrong amount is 409/94 and moves nothing', async () => {
    const { cardNo, auth } = await citizen(0);
    const order = (await createOrder(auth, 3_000)).json();
    const wrong = await bankConfirm(order.orderId, 30_000);
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().code).toBe('94');
    expect(await purse(cardNo)).toBe(0);
    const ok = await bankConfirm(order.orderId, 3_000, 'app');
    expect(ok.json()).toMatchObject({ approved: true, status: 'confirmed', balance: 3_000 });
    const app = await sys.pool.query(`SELECT detail->>'channel' AS channel FROM transfers WHERE op_kind = 'topup' AND card_no = $1`, [cardNo]);
    expect(app.rows).toEqual([{ channel: 'app' }]);
    await balanced();
  });

  it('only kiosk terminals confirm (a POS gets 58); an unknown order is 404/25', async () => {
    const { cardNo, auth } = await citizen(1_000);
    const order = (await createOrder(auth, 1_000)).json();
    const byPos = await kioskConfirm(pos, order.orderId, 1_000);
    expect(byPos.json()).toMatchObject({ approved: false, code: '58' });
    const unknown = await kioskConfirm(kioskA, 'ab'.repeat(16), 1_000);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('25');
    const malformed = await kioskConfirm(kioskA, "1' OR '1'='1", 1_000);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('30');
    expect(await purse(cardNo)).toBe(1_000);
    expect((await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${order.orderId}`, headers: auth })).json().status).toBe('pending');
  });

  it('a cancelled or expired order cannot be confirmed (12) and moves nothing', async () => {
    const { cardNo, auth } = await citizen(1_000);
    const cancelled = (await createOrder(auth, 1_000)).json();
    const cancel = await sys.http.inject({ method: 'POST', url: `/v1/citizen/topup-orders/${cancelled.orderId}/cancel`, headers: auth, payload: {} });
    expect(cancel.json().status).toBe('cancelled');
    expect((await kioskConfirm(kioskA, cancelled.orderId, 1_000)).json()).toMatchObject({ approved: false, code: '12', status: 'cancelled' });

    const late = (await createOrder(auth, 1_000)).json();
    clock.advance(topupOrderTtlMs + 1000);
    try {
      expect((await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${late.orderId}`, headers: auth })).json().status).toBe('expired');
      expect((await kioskConfirm(kioskA, late.orderId, 1_000)).json()).toMatchObject({ approved: false, code: '12', status: 'expired' });
    } finally {
      clock.advance(-(topupOrderTtlMs + 1000));
    }
    expect(await purse(cardNo)).toBe(1_000);
    await balanced();
  });

  it('a confirmed order cannot be cancelled, and another citizen cannot see or cancel it', async () => {
    const a = await citizen(0);
    const b = await citizen(0);
    const order = (await createOrder(a.auth, 700)).json();
    expect((await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${order.orderId}`, headers: b.auth })).statusCode).toBe(404);
    expect((await sys.http.inject({ method: 'POST', url: `/v1/citizen/topup-orders/${order.orderId}/cancel`, headers: b.auth, payload: {} })).statusCode).toBe(404);
    expect((await kioskConfirm(kioskA, order.orderId, 700)).json().approved).toBe(true);
    const cancel = await sys.http.inject({ method: 'POST', url: `/v1/citizen/topup-orders/${order.orderId}/cancel`, headers: a.auth, payload: {} });
    expect(cancel.json().status).toBe('confirmed');
    expect(await purse(a.cardNo)).toBe(700);
  });

  it('a declined confirmation (lost card, 41) is final: a retry after the card is found moves nothing', async () => {
    const { cardNo, auth } = await citizen(1_000);
    const order = (await createOrder(auth, 1_000)).json();
    expect((await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } })).statusCode).toBe(200);
    expect((await kioskConfirm(kioskA, order.orderId, 1_000)).json()).toMatchObject({ approved: false, code: '41', status: 'declined' });
    expect((await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'active' } })).statusCode).toBe(200);
    expect((await kioskConfirm(kioskA, order.orderId, 1_000)).json()).toMatchObject({ approved: false, code: '41', status: 'declined' });
    expect(await purse(cardNo)).toBe(1_000);
    await balanced();
  });
});

describe('the kiosk cash acceptor stand-in (terminals/kiosk)', () => {
  it('confirms an order over a real socket with the kiosk terminal key; running it again moves nothing more', async () => {
    const base = await sys.http.listen({ port: 0, host: '127.0.0.1' });
    const { cardNo, auth } = await citizen(1_000);
    const order = (await createOrder(auth, 2_000)).json();
    const run = () => promisify(execFile)('npx', ['tsx', 'terminals/kiosk/main.ts', '--order', order.orderId, '--amount', '2000', '--key', kioskA.apiKey, '--server', base], { timeout: 60_000 });
    const first = await run();
    expect(first.stdout).toContain('"approved":true');
    const again = await run();
    expect(again.stdout).toContain('"approved":true');
    expect(await purse(cardNo)).toBe(3_000);
    expect(await topupsOf(cardNo)).toBe(2);
    await balanced();
  }, 90_000);
});
