// Failed ledger commits (issue: authorization core, acceptance 3): the answer is 96, the Redis
// effect is undone, the idempotency record is gone (a retry approves once), nothing is half-done,
// and a poisoned command does not fail its neighbours in the same batch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import type { LedgerCommand } from '../../src/adapters/postgres/ledger-writer.js';

let sys: TestSystem;
let pos: RegisteredTerminal;

beforeAll(async () => {
  // A batch wait long enough that concurrent payments share one batch.
  sys = await createTestSystem({ env: { LEDGER_BATCH_WAIT_MS: '25' } });
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());
afterEach(async () => {
  sys.ledger.beforeCommit = null;
  await sys.pool.query(`DROP TRIGGER IF EXISTS test_reject_amount ON transfers`);
  await sys.pool.query(`DROP TRIGGER IF EXISTS test_reject_at_commit ON transfers`);
  await sys.pool.query(`DROP TRIGGER IF EXISTS test_kill_at_commit ON transfers`);
});

const pay = (body: { paymentId: string; cardNo: string; amount: number }) =>
  sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: body });

async function pgPurse(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0].balance);
}

async function redisPurse(cardNo: string): Promise<number | null> {
  const pu = await sys.redis.hget(sys.keys.cardState(cardNo), 'pu');
  return pu === null ? null : Number(pu);
}

async function transferCount(paymentId: string): Promise<number> {
  const r = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE op_kind = 'payment' AND op_id = $1`, [paymentId]);
  return r.rows[0].n as number;
}

/** After a failure: Redis agrees with PostgreSQL, the command left no record, no pending mark, no row. */
async function expectNothingHalfDone(cardNo: string, paymentId: string, purse: number): Promise<void> {
  await sys.ledger.drain();
  expect(await pgPurse(cardNo)).toBe(purse);
  expect(await redisPurse(cardNo)).toBe(purse);
  expect(await sys.redis.get(sys.keys.cardOp(cardNo, 'payment', `${pos.terminalId}/${paymentId}`))).toBeNull(); // ids are scoped to the terminal (DESIGN §11)
  expect(await sys.redis.sismember(sys.keys.pending(cardNo), `${cardNo} payment:${pos.terminalId}/${paymentId}`)).toBe(0);
  expect(await transferCount(paymentId)).toBe(0);
  const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
  expect(tb.json()).toMatchObject({ balanced: true, total: 0, mismatched: [] });
}

/** A retry of the same command, once the fault is cleared, approves exactly once. */
async function expectRetryApprovesOnce(cardNo: string, paymentId: string, amount: number, purseBefore: number): Promise<void> {
  const retries = await Promise.all(Array.from({ length: 3 }, () => pay({ paymentId, cardNo, amount })));
  for (const r of retries) expect(r.json()).toMatchObject({ approved: true, code: '00', balance: purseBefore - amount });
  expect(new Set(retries.map((r) => r.json().transactionId)).size).toBe(1);
  expect(await transferCount(paymentId)).toBe(1);
  await sys.ledger.drain();
  expect(await pgPurse(cardNo)).toBe(purseBefore - amount);
  expect(await redisPurse(cardNo)).toBe(purseBefore - amount);
}

/** Fires one payment per card at once; the answers in card order. */
async function payAll(cards: string[], amountOf: (i: number) => number, idOf: (i: number) => string) {
  return Promise.all(cards.map((cardNo, i) => pay({ paymentId: idOf(i), cardNo, amount: amountOf(i) })));
}

describe('a commit that fails in the writer (beforeCommit hook)', () => {
  it('answers 96, undoes Redis, forgets the command; a retry after the fault approves once', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    sys.ledger.beforeCommit = () => {
      throw new Error('injected commit failure');
    };
    const res = await pay({ paymentId: 'hook-1', cardNo, amount: 300 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ approved: false, code: '96' });
    await expectNothingHalfDone(cardNo, 'hook-1', 1000);
    sys.ledger.beforeCommit = null;
    await expectRetryApprovesOnce(cardNo, 'hook-1', 300, 1000);
  });

  it('a poisoned command does not fail its neighbours in the same batch', async () => {
    const cards = (await Promise.all(Array.from({ length: 8 }, () => issueCard(sys.http, { balance: 1000 })))).map((c) => c.cardNo);
    const poisoned = 'hook-poison-3';
    const batchesWithPoison: number[] = [];
    sys.ledger.beforeCommit = (commands: LedgerCommand[]) => {
      if (commands.some((c) => c.opId === poisoned)) {
        batchesWithPoison.push(commands.length);
        throw new Error('injected: poisoned command');
      }
    };
    const answers = await payAll(cards, () => 100, (i) => `hook-poison-${i}`);
    expect(Math.max(...batchesWithPoison)).toBeGreaterThan(1); // it really shared a batch
    answers.forEach((a, i) => expect(a.json()).toMatchObject(i === 3 ? { approved: false, code: '96' } : { approved: true, code: '00', balance: 900 }));
    await expectNothingHalfDone(cards[3]!, poisoned, 1000);
    for (const [i, cardNo] of cards.entries()) if (i !== 3) expect([await pgPurse(cardNo), await redisPurse(cardNo)]).toEqual([900, 900]);
    sys.ledger.beforeCommit = null;
    await expectRetryApprovesOnce(cards[3]!, poisoned, 100, 1000);
  });
});

describe('a commit that PostgreSQL itself refuses', () => {
  it('a statement failure (trigger rejecting one amount) fails only that command', async () => {
    await sys.pool.query(`CREATE OR REPLACE FUNCTION test_reject_amount() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.amount = 4242 THEN RAISE EXCEPTION 'test: amount 4242 refused'; END IF; RETURN NEW; END $$`);
    await sys.pool.query(`CREATE TRIGGER test_reject_amount BEFORE INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION test_reject_amount()`);
    const cards = (await Promise.all(Array.from({ length: 6 }, () => issueCard(sys.http, { balance: 10_000 })))).map((c) => c.cardNo);
    const batchesBefore = sys.ledger.stats.batches;
    const answers = await payAll(cards, (i) => (i === 2 ? 4242 : 1000), (i) => `trg-${i}`);
    answers.forEach((a, i) => expect(a.json()).toMatchObject(i === 2 ? { approved: false, code: '96' } : { approved: true, balance: 9000 }));
    // The neighbours were retried one by one after the shared batch failed.
    expect(sys.ledger.stats.batches - batchesBefore).toBeGreaterThanOrEqual(cards.length - 1);
    await expectNothingHalfDone(cards[2]!, 'trg-2', 10_000);
    for (const [i, cardNo] of cards.entries()) if (i !== 2) expect([await pgPurse(cardNo), await redisPurse(cardNo)]).toEqual([9000, 9000]);
    // Still refused while the fault lasts, and the retry is not a replay of the failure.
    expect((await pay({ paymentId: 'trg-2', cardNo: cards[2]!, amount: 4242 })).json()).toEqual({ approved: false, code: '96' });
    await sys.pool.query(`DROP TRIGGER test_reject_amount ON transfers`);
    await expectRetryApprovesOnce(cards[2]!, 'trg-2', 4242, 10_000);
  });

  it('an error answered to COMMIT itself (deferred constraint) answers 96 and leaves nothing', async () => {
    await sys.pool.query(`CREATE OR REPLACE FUNCTION test_reject_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.amount = 4343 THEN RAISE EXCEPTION 'test: amount 4343 refused at commit'; END IF; RETURN NULL; END $$`);
    await sys.pool.query(`CREATE CONSTRAINT TRIGGER test_reject_at_commit AFTER INSERT ON transfers DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION test_reject_at_commit()`);
    const cards = (await Promise.all(Array.from({ length: 5 }, () => issueCard(sys.http, { balance: 10_000 })))).map((c) => c.cardNo);
    const answers = await payAll(cards, (i) => (i === 0 ? 4343 : 500), (i) => `dfr-${i}`);
    answers.forEach((a, i) => expect(a.json()).toMatchObject(i === 0 ? { approved: false, code: '96' } : { approved: true, balance: 9500 }));
    await expectNothingHalfDone(cards[0]!, 'dfr-0', 10_000);
    await sys.pool.query(`DROP TRIGGER test_reject_at_commit ON transfers`);
    await expectRetryApprovesOnce(cards[0]!, 'dfr-0', 4343, 10_000);
  });

  it('the connection dying during COMMIT: PostgreSQL says aborted → 96, undone, neighbours retried', async () => {
    // The backend terminates itself while running the deferred trigger, i.e. inside COMMIT.
    await sys.pool.query(`CREATE OR REPLACE FUNCTION test_kill_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.amount = 4444 THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF; RETURN NULL; END $$`);
    await sys.pool.query(`CREATE CONSTRAINT TRIGGER test_kill_at_commit AFTER INSERT ON transfers DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION test_kill_at_commit()`);
    const cards = (await Promise.all(Array.from({ length: 5 }, () => issueCard(sys.http, { balance: 10_000 })))).map((c) => c.cardNo);
    const answers = await payAll(cards, (i) => (i === 1 ? 4444 : 700), (i) => `kill-${i}`);
    answers.forEach((a, i) => expect(a.json()).toMatchObject(i === 1 ? { approved: false, code: '96' } : { approved: true, balance: 9300 }));
    await expectNothingHalfDone(cards[1]!, 'kill-1', 10_000);
    await sys.pool.query(`DROP TRIGGER test_kill_at_commit ON transfers`);
    await expectRetryApprovesOnce(cards[1]!, 'kill-1', 4444, 10_000);
  });
});

describe('Redis failing after the commit', () => {
  it('a failed finalize keeps the approval; a replay is answered from the ledger at once, and the record is repaired', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const finalize = sys.gate.finalize.bind(sys.gate);
    let failures = 0;
    sys.gate.finalize = async () => {
      failures++;
      throw new Error('injected: Redis unreachable at finalize');
    };
    let first;
    try {
      first = await pay({ paymentId: 'fin-1', cardNo, amount: 150 });
    } finally {
      sys.gate.finalize = finalize;
    }
    expect(failures).toBe(1);
    expect(first.json()).toMatchObject({ approved: true, code: '00', balance: 850 });
    // The record is still pending and the card still marked.
    expect(JSON.parse((await sys.redis.get(sys.keys.cardOp(cardNo, 'payment', `${pos.terminalId}/fin-1`)))!).s).toBe('p');
    expect(await sys.redis.sismember(sys.keys.pending(cardNo), `${cardNo} payment:${pos.terminalId}/fin-1`)).toBe(1);
    const started = Date.now();
    const replay = await pay({ paymentId: 'fin-1', cardNo, amount: 150 });
    expect(replay.json()).toEqual(first.json());
    expect(Date.now() - started).toBeLessThan(2_000); // not after the pending wait maximum
    expect(JSON.parse((await sys.redis.get(sys.keys.cardOp(cardNo, 'payment', `${pos.terminalId}/fin-1`)))!).s).toBe('f');
    expect(await sys.redis.sismember(sys.keys.pending(cardNo), `${cardNo} payment:${pos.terminalId}/fin-1`)).toBe(0);
    expect(await transferCount('fin-1')).toBe(1);
    await sys.ledger.drain();
    expect([await pgPurse(cardNo), await redisPurse(cardNo)]).toEqual([850, 850]);
  });
});

describe('a COMMIT whose answer is lost', () => {
  type Patchable = { connect: (...args: unknown[]) => unknown; query: (...args: unknown[]) => unknown };

  /**
   * The next COMMIT really commits, then the client reports a broken connection (the answer was
   * lost on the way back). With `statusUnreachable`, asking PostgreSQL afterwards fails too.
   */
  function loseNextCommitAnswer(statusUnreachable: boolean): () => void {
    const pool = sys.pool as unknown as Patchable;
    const realConnect = pool.connect;
    const realQuery = pool.query;
    let armed = true;
    pool.connect = function (this: unknown, ...args: unknown[]) {
      if (args.length > 0) return realConnect.apply(sys.pool, args);
      return (realConnect.apply(sys.pool, []) as Promise<pg.PoolClient>).then((client) => {
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        (client as unknown as Patchable).query = async (...qa: unknown[]) => {
          const result = await query(...qa);
          if (armed && qa[0] === 'COMMIT') {
            armed = false;
            throw new Error('Connection terminated unexpectedly');
          }
          return result;
        };
        return client;
      });
    };
    if (statusUnreachable) {
      pool.query = function (...args: unknown[]) {
        if (typeof args[0] === 'string' && args[0].includes('txid_status')) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
        return realQuery.apply(sys.pool, args);
      };
    }
    return () => {
      pool.connect = realConnect;
      pool.query = realQuery;
    };
  }

  it('PostgreSQL says committed: the payment is approved, once, and Redis agrees', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const restore = loseNextCommitAnswer(false);
    try {
      const res = await pay({ paymentId: 'lost-1', cardNo, amount: 250 });
      expect(res.json()).toMatchObject({ approved: true, code: '00', balance: 750 });
    } finally {
      restore();
    }
    expect(await transferCount('lost-1')).toBe(1);
    await sys.ledger.drain();
    expect([await pgPurse(cardNo), await redisPurse(cardNo)]).toEqual([750, 750]);
    const again = await pay({ paymentId: 'lost-1', cardNo, amount: 250 });
    expect(again.json()).toMatchObject({ approved: true, balance: 750 });
    expect(await transferCount('lost-1')).toBe(1);
  });

  it('outcome unknown: answers 96, drops the card state; the card reloads from the ledger and a retry answers the committed payment', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const restore = loseNextCommitAnswer(true);
    let res;
    try {
      res = await pay({ paymentId: 'unknown-1', cardNo, amount: 400 });
    } finally {
      restore();
    }
    expect(res.json()).toEqual({ approved: false, code: '96' });
    // The commit did happen; Redis holds nothing that could disagree.
    expect(await transferCount('unknown-1')).toBe(1);
    expect(await sys.redis.exists(sys.keys.cardState(cardNo))).toBe(0);
    expect(await sys.redis.get(sys.keys.cardOp(cardNo, 'payment', 'unknown-1'))).toBeNull();
    expect(await sys.redis.sismember(sys.keys.pending(cardNo), `${cardNo} payment:unknown-1`)).toBe(0);
    // The retry is answered from the ledger with the first commit's id and balance.
    const retry = await pay({ paymentId: 'unknown-1', cardNo, amount: 400 });
    expect(retry.json()).toMatchObject({ approved: true, code: '00', balance: 600 });
    const row = await sys.pool.query(`SELECT transfer_id::text AS id FROM transfers WHERE op_kind = 'payment' AND op_id = 'unknown-1'`);
    expect(retry.json().transactionId).toBe(row.rows[0].id);
    await sys.ledger.drain();
    expect([await pgPurse(cardNo), await redisPurse(cardNo)]).toEqual([600, 600]);
    expect(await transferCount('unknown-1')).toBe(1);
  });
});
