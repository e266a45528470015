// Several processes on one database and Redis prefix (in one test process, each its own System with
// its own owner id): a process that starts recovers only what dead owners left pending, never the
// in-flight commands of a live one, and a card whose cache was dropped reloads from PostgreSQL only
// once no command of it is in flight — else the snapshot would miss a commit and the purse oversell.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, joinTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { pendingCount } from '../support/pending.js';

let a: TestSystem;
let b: TestSystem;
let pos: RegisteredTerminal;

beforeAll(async () => {
  a = await createTestSystem();
  pos = await retailPos(a.http);
  b = await joinTestSystem(a);
});
afterAll(async () => {
  await b?.destroy();
  await a?.destroy();
});

const pay = (sys: TestSystem, body: { paymentId: string; cardNo: string; amount: number }) =>
  sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: body });

async function pgPurse(cardNo: string): Promise<number> {
  const r = await a.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0].balance);
}

/** Holds the batch of `sys` that carries `opId` before its COMMIT until the returned release is called. */
function holdCommits(sys: TestSystem, opId: string): { entered: Promise<void>; release: (fail?: boolean) => void } {
  let release!: () => void;
  let failing = false;
  let entered!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const enteredP = new Promise<void>((r) => (entered = r));
  sys.ledger.beforeCommit = async (commands) => {
    if (!commands.some((c) => c.opId === opId)) return;
    entered();
    await gate;
    if (failing) throw new Error('the process died before its COMMIT');
  };
  return {
    entered: enteredP,
    release: (fail = false) => {
      failing = fail;
      sys.ledger.beforeCommit = null;
      release();
    },
  };
}

describe('owners of pending commands', () => {
  it('each process marks its commands under its own owner id', async () => {
    expect(a.keys.owner).not.toBe(b.keys.owner);
    const owners = await a.redis.smembers(a.keys.owners());
    expect(owners).toEqual(expect.arrayContaining([a.keys.owner, b.keys.owner]));
    const { cardNo } = await issueCard(a.http, { balance: 1000 });
    const held = holdCommits(a, 'own-1');
    const first = pay(a, { paymentId: 'own-1', cardNo, amount: 100 });
    await held.entered;
    // Client ids are scoped to their terminal (DESIGN §11): the marks carry `<terminal>/<id>`.
    const op = { cardNo, opKind: 'payment', opId: 'own-1', terminalId: pos.terminalId };
    expect(await a.redis.sismember(a.keys.pending(cardNo), a.gate.pendingMember(op))).toBe(1);
    expect(await a.redis.scard(b.keys.pending(cardNo))).toBe(0);
    expect(await a.redis.hget(a.keys.cardInflight(cardNo), a.gate.inflightField(op))).toBe(a.keys.owner);
    held.release();
    expect((await first).json()).toMatchObject({ approved: true, balance: 900 });
    expect(await a.redis.hexists(a.keys.cardInflight(cardNo), a.gate.inflightField(op))).toBe(0);
    expect(await pendingCount(a.redis, a.config.redisKeyPrefix)).toBe(0);
  });

  it('a process starting while another serves leaves its in-flight command alone: no oversell', async () => {
    const { cardNo } = await issueCard(a.http, { balance: 1000 });
    const held = holdCommits(a, 'live-1');
    const first = pay(a, { paymentId: 'live-1', cardNo, amount: 800 });
    await held.entered;
    // A third process starts (startup recovery) while A's payment sits between gate and commit.
    const c = await joinTestSystem(a);
    try {
      expect(await a.redis.exists(a.keys.cardState(cardNo))).toBe(1);
      expect(await a.redis.hget(a.keys.cardState(cardNo), 'pu')).toBe('200');
      // Another process's payment of the same card sees the in-flight debit: 51, not a second 800.
      const second = await pay(b, { paymentId: 'live-2', cardNo, amount: 800 });
      expect(second.json()).toEqual({ approved: false, code: '51' });
    } finally {
      held.release();
      await c.destroy();
    }
    expect((await first).json()).toMatchObject({ approved: true, balance: 200 });
    expect(await pgPurse(cardNo)).toBe(200);
    expect(await a.redis.hget(a.keys.cardState(cardNo), 'pu')).toBe('200');
  });

  it('a card dropped from the cache while a command is in flight reloads only after its commit', async () => {
    const { cardNo } = await issueCard(a.http, { balance: 1000 });
    const held = holdCommits(a, 'drop-1');
    const first = pay(a, { paymentId: 'drop-1', cardNo, amount: 800 });
    await held.entered;
    // The cache is dropped meanwhile (the drift job, an admin change, an unknown commit outcome).
    await b.gate.forget(cardNo);
    const second = pay(b, { paymentId: 'drop-2', cardNo, amount: 800 });
    try {
      // B's miss waits for A's command instead of installing a snapshot without it.
      await new Promise((r) => setTimeout(r, 100));
      expect(await a.redis.exists(a.keys.cardState(cardNo))).toBe(0);
    } finally {
      held.release();
    }
    expect((await first).json()).toMatchObject({ approved: true, balance: 200 });
    expect((await second).json()).toEqual({ approved: false, code: '51' });
    expect(await pgPurse(cardNo)).toBe(200);
    expect(await a.redis.hget(a.keys.cardState(cardNo), 'pu')).toBe('200');
  });

  it('the marks of a dead owner are recovered by a live process; the card reloads from the ledger', async () => {
    const { cardNo } = await issueCard(a.http, { balance: 1000 });
    const dead = await joinTestSystem(a, { onLeaseLost: () => undefined });
    const held = holdCommits(dead, 'dead-1');
    const lost = pay(dead, { paymentId: 'dead-1', cardNo, amount: 300 });
    await held.entered;
    expect(await a.redis.hget(a.keys.cardState(cardNo), 'pu')).toBe('700');
    // The owner dies: its lease is gone and its batch never commits.
    await a.redis.del(a.keys.ownerLease(dead.keys.owner));
    const { recoverDeadOwners } = await import('../../src/app/recovery.js');
    const report = await recoverDeadOwners(a.redis, a.keys, a.gate, a.log);
    expect(report).toMatchObject({ ownersRecovered: 1, pendingCommands: 1, cardsInvalidated: 1 });
    expect(await a.redis.exists(a.keys.cardState(cardNo))).toBe(0);
    expect(await a.redis.sismember(a.keys.owners(), dead.keys.owner)).toBe(0);
    held.release(true);
    expect((await lost).json()).toEqual({ approved: false, code: '96' });
    await dead.destroy();
    const next = await pay(a, { paymentId: 'dead-2', cardNo, amount: 1000 });
    expect(next.json()).toMatchObject({ approved: true, balance: 0 });
    expect(await pgPurse(cardNo)).toBe(0);
  });
});
