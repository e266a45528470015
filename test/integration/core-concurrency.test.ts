// Concurrency of the authorization core against real PostgreSQL and Redis (issue: authorization
// core, acceptance 2): the Lua gate never oversells a purse, and one command id has one effect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { pendingCount } from '../support/pending.js';

let sys: TestSystem;
let pos: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

const pay = (body: { paymentId: string; cardNo: string; amount: number }) =>
  sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: body });

async function pgPurse(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0].balance);
}

async function trialBalance(): Promise<{ balanced: boolean; total: number; mismatched: unknown[] }> {
  return (await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin })).json();
}

describe('many payments on one card', () => {
  it('100 concurrent payments of 100 fen on 5,000 fen: exactly 50 approved, the others 51, balance 0 everywhere', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => pay({ paymentId: `burst-${i}`, cardNo, amount: 100 })));
    const bodies = answers.map((a) => a.json() as { approved: boolean; code: string; balance?: number; transactionId?: string });
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    const approved = bodies.filter((b) => b.approved);
    expect(approved).toHaveLength(50);
    expect(bodies.filter((b) => !b.approved).every((b) => b.code === '51')).toBe(true);
    // Every approval saw its own balance after the gate: 4900 … 0, each once.
    expect(approved.map((b) => b.balance).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 50 }, (_, i) => i * 100));
    expect(new Set(approved.map((b) => b.transactionId)).size).toBe(50);

    await sys.ledger.drain();
    expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('0');
    expect(await pgPurse(cardNo)).toBe(0);
    const rows = await sys.pool.query(`SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transfers WHERE op_kind = 'payment' AND card_no = $1`, [cardNo]);
    expect(rows.rows[0]).toEqual({ n: 50, total: 5000 });
    expect(await pendingCount(sys.redis, sys.config.redisKeyPrefix)).toBe(0);
    expect(await trialBalance()).toMatchObject({ balanced: true, total: 0, mismatched: [] });

    // The declines were remembered: replaying any of the 100 ids answers as the first time.
    const replays = await Promise.all(Array.from({ length: 100 }, (_, i) => pay({ paymentId: `burst-${i}`, cardNo, amount: 100 })));
    expect(replays.map((r) => r.json())).toEqual(bodies);
  });

  it('concurrent payments on many cards commit in shared batches and balance per card', async () => {
    const cards = await Promise.all(Array.from({ length: 10 }, () => issueCard(sys.http, { balance: 1000 })));
    const batchesBefore = sys.ledger.stats.batches;
    const answers = await Promise.all(
      cards.flatMap(({ cardNo }, c) => Array.from({ length: 12 }, (_, i) => pay({ paymentId: `multi-${c}-${i}`, cardNo, amount: 100 }))),
    );
    expect(answers.filter((a) => a.json().approved)).toHaveLength(100);
    expect(answers.filter((a) => a.json().code === '51')).toHaveLength(20);
    await sys.ledger.drain();
    // Group commit: far fewer batches than commands.
    expect(sys.ledger.stats.batches - batchesBefore).toBeLessThan(100);
    for (const { cardNo } of cards) {
      expect(await pgPurse(cardNo)).toBe(0);
      expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('0');
    }
    expect(await trialBalance()).toMatchObject({ balanced: true, total: 0 });
  });
});

describe('one paymentId, many requests', () => {
  it('30 concurrent requests with one paymentId: one effect, one transfer row, 30 identical answers', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const body = { paymentId: 'same-30', cardNo, amount: 1234 };
    const answers = await Promise.all(Array.from({ length: 30 }, () => pay(body)));
    const first = answers[0]!.json();
    expect(first).toMatchObject({ approved: true, code: '00', balance: 3766 });
    for (const a of answers) {
      expect(a.statusCode).toBe(200);
      expect(a.json()).toEqual(first);
    }
    const rows = await sys.pool.query(`SELECT transfer_id::text AS id FROM transfers WHERE op_kind = 'payment' AND op_id = 'same-30'`);
    expect(rows.rows).toEqual([{ id: first.transactionId }]);
    await sys.ledger.drain();
    expect(await pgPurse(cardNo)).toBe(3766);
    expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('3766');
  });

  it('30 concurrent requests with one paymentId after the card’s Redis state is gone: still one effect', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    await sys.gate.forget(cardNo);
    const body = { paymentId: 'same-30-cold', cardNo, amount: 500 };
    const answers = await Promise.all(Array.from({ length: 30 }, () => pay(body)));
    const first = answers[0]!.json();
    expect(first).toMatchObject({ approved: true, balance: 4500 });
    for (const a of answers) expect(a.json()).toEqual(first);
    const rows = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE op_kind = 'payment' AND op_id = 'same-30-cold'`);
    expect(rows.rows[0].n).toBe(1);
    await sys.ledger.drain();
    expect(await pgPurse(cardNo)).toBe(4500);
    expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('4500');
  });

  it('the same paymentId with two amounts at once: one wins, the other answers 409, one effect', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pay({ paymentId: 'same-mixed', cardNo, amount: i % 2 === 0 ? 100 : 200 })),
    );
    const approved = answers.filter((a) => a.statusCode === 200);
    const conflicts = answers.filter((a) => a.statusCode === 409);
    expect(approved.length + conflicts.length).toBe(20);
    expect(approved).toHaveLength(10);
    const amount = 5000 - approved[0]!.json().balance;
    for (const a of approved) expect(a.json()).toEqual(approved[0]!.json());
    for (const c of conflicts) expect(c.json().code).toBe('94');
    await sys.ledger.drain();
    expect(await pgPurse(cardNo)).toBe(5000 - amount);
    expect(await trialBalance()).toMatchObject({ balanced: true, total: 0 });
  });
});
