// Several real server processes on one database and Redis prefix (issue 12, acceptance 1): a
// supervisor with WEB_CONCURRENCY=2 workers on one port and a second single server on another.
// The core's concurrency results are the same as with one process, and kill -9 of one worker
// under load loses and doubles nothing while the others keep serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createTestSystem, testRedis, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { spawnServer, type Reply, type ServerProcess } from '../support/server-processes.js';
import { pendingCount } from '../support/pending.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let supervised: ServerProcess;
let single: ServerProcess;
let servers: ServerProcess[];
let redis: Redis;
/** Short leases (a killed worker's marks are recovered at once anyway: its pid is gone), yet long against a busy machine's stalls. */
const leaseEnv = { OWNER_LEASE_MS: '6000' };

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  supervised = await spawnServer(sys.config, { WEB_CONCURRENCY: '2', ...leaseEnv });
  single = await spawnServer(sys.config, leaseEnv);
  servers = [supervised, single];
  redis = testRedis(sys.config);
}, 180_000);

afterAll(async () => {
  await Promise.all((servers ?? []).map((s) => s.stop()));
  redis?.disconnect();
  await sys?.destroy();
}, 60_000);

interface Payment {
  paymentId: string;
  cardNo: string;
  amount: number;
}

/** The i-th request goes to the i-th server in turn, so every process takes part. */
const pay = (i: number, body: Payment): Promise<Reply> => servers[i % servers.length]!.request('POST', '/v1/payments', body, pos.headers);

async function pgPurse(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0].balance);
}

async function trialBalance(): Promise<{ balanced: boolean; total: number }> {
  return (await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin })).json();
}

async function waitFor(what: string, check: () => Promise<boolean>, waitMs = 30_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two server processes and WEB_CONCURRENCY=2 on one database and Redis', () => {
  it('runs three serving processes (two workers of a supervisor and one more), each its own owner', async () => {
    expect(supervised.readyPids()).toHaveLength(2);
    expect(single.readyPids()).toHaveLength(1);
    // Each worker serves HTTP, ISO 8583 and the mutual-TLS listeners; the jobs process serves none of them.
    expect(supervised.output.split('HTTPS (mutual TLS) listening').length - 1).toBe(2);
    expect(supervised.output.split('ISO 8583 listening').length - 1).toBe(2);
    const owners = await redis.smembers(sys.keys.owners());
    // the in-process test system, the supervisor's jobs process, its two workers and the single server
    expect(owners.length).toBeGreaterThanOrEqual(5);
  });

  it('100 concurrent payments of 100 fen on 5,000 fen across the processes: exactly 50 approved, the others 51', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => pay(i, { paymentId: `mp-burst-${i}`, cardNo, amount: 100 })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const approved = answers.filter((a) => a.body.approved === true);
    expect(approved).toHaveLength(50);
    expect(answers.filter((a) => a.body.approved !== true).every((a) => a.body.code === '51')).toBe(true);
    expect(approved.map((a) => a.body.balance as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i * 100));
    expect(new Set(approved.map((a) => a.body.transactionId)).size).toBe(50);
    expect(await pgPurse(cardNo)).toBe(0);
    expect(await redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('0');
    const rows = await sys.pool.query(`SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transfers WHERE op_kind = 'payment' AND card_no = $1`, [cardNo]);
    expect(rows.rows[0]).toEqual({ n: 50, total: 5000 });
    await waitFor('no pending commands', async () => (await pendingCount(redis, sys.config.redisKeyPrefix)) === 0);
    // Replays on any process answer as the first time.
    const replays = await Promise.all(Array.from({ length: 100 }, (_, i) => pay(i + 1, { paymentId: `mp-burst-${i}`, cardNo, amount: 100 })));
    expect(replays.map((r) => r.body)).toEqual(answers.map((a) => a.body));
  });

  it('the same paymentId from 50 clients on all processes: one transfer, 50 identical answers', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => pay(i, { paymentId: 'mp-same', cardNo, amount: 700 })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers[0]!.body).toMatchObject({ approved: true, balance: 4300 });
    for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
    const rows = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE op_kind = 'payment' AND op_id = 'mp-same'`);
    expect(rows.rows[0].n).toBe(1);
    expect(await pgPurse(cardNo)).toBe(4300);
    // The same id with other content is refused on every process.
    const conflict = await pay(1, { paymentId: 'mp-same', cardNo, amount: 701 });
    expect(conflict.status).toBe(409);
  });

  it('kill -9 of one worker under load: nothing lost or doubled, the others keep serving, the worker is restarted', async () => {
    const cardCount = 16;
    const balanceFen = 6000;
    const cards = (await Promise.all(Array.from({ length: cardCount }, () => issueCard(sys.http, { balance: balanceFen })))).map((c) => c.cardNo);
    const sent: Payment[] = Array.from({ length: 640 }, (_, i) => ({ paymentId: `mp-kill-${i}`, cardNo: cards[i % cardCount]!, amount: 50 + ((i * 37) % 250) }));
    const answers = new Map<string, Record<string, unknown>>();
    const failuresByServer = [0, 0];
    const [victim] = supervised.readyPids();
    let next = 0;
    let killed = false;
    let pendingAtKill = -1;
    const client = async () => {
      while (next < sent.length) {
        const i = next++;
        const body = sent[i]!;
        try {
          const res = await pay(i, body);
          if (res.status === 200) answers.set(body.paymentId, res.body);
          else failuresByServer[i % 2]!++;
        } catch {
          failuresByServer[i % 2]!++; // the killed worker had this request
        }
        if (!killed && answers.size >= 120) {
          killed = true;
          process.kill(victim!, 'SIGKILL');
          pendingAtKill = await pendingCount(redis, sys.config.redisKeyPrefix);
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, client));
    expect(killed).toBe(true);
    console.info(`kill -9 under load: ${answers.size}/${sent.length} answered, failed per server ${failuresByServer.join('/')}, pending right after the kill ${pendingAtKill}`);
    // The single server never failed a request; the supervisor's surviving worker kept answering.
    expect(failuresByServer[1], single.output.split('\n').filter((l) => !l.includes('"level":30')).slice(-12).join('\n')).toBe(0);
    expect(answers.size).toBeGreaterThan(sent.length - 60);

    // The supervisor restarts the worker; the dead owner's marks are recovered (its pid is gone).
    await waitFor('the worker restarted', async () => supervised.readyPids().length >= 3);
    await waitFor('no pending commands', async () => (await pendingCount(redis, sys.config.redisKeyPrefix)) === 0);

    // Every payment is asked again (the unanswered ones for the first time): the ledger decides.
    const retried = await Promise.all(sent.map((body, i) => pay(i + 1, body)));
    expect(retried.every((r) => r.status === 200)).toBe(true);
    const rows = await sys.pool.query<{ op_id: string; transfer_id: string }>(`SELECT op_id, transfer_id::text FROM transfers WHERE op_kind = 'payment' AND op_id LIKE 'mp-kill-%'`);
    const byId = new Map<string, string[]>();
    for (const row of rows.rows) byId.set(row.op_id, [...(byId.get(row.op_id) ?? []), row.transfer_id]);
    sent.forEach((body, i) => {
      const first = answers.get(body.paymentId);
      const again = retried[i]!.body;
      // An answered approval is in the ledger once under its transaction id, and replays unchanged.
      if (first?.approved === true) {
        expect(byId.get(body.paymentId), body.paymentId).toEqual([first.transactionId]);
        expect(again).toEqual(first);
      }
      if (first && first.approved !== true) expect(again).toEqual(first);
      // Whatever was asked, at most one transfer; an approval now is exactly that transfer.
      expect((byId.get(body.paymentId) ?? []).length).toBeLessThanOrEqual(1);
      if (again.approved === true) expect(byId.get(body.paymentId)).toEqual([again.transactionId]);
      else expect(byId.has(body.paymentId)).toBe(false);
    });
    // Every purse: the ledger's balance is the initial one less its payments, and Redis agrees.
    const spent = await sys.pool.query<{ card_no: string; total: string }>(`SELECT card_no, sum(amount)::text AS total FROM transfers WHERE op_kind = 'payment' AND op_id LIKE 'mp-kill-%' GROUP BY card_no`);
    const spentBy = new Map(spent.rows.map((r) => [r.card_no, Number(r.total)]));
    for (const cardNo of cards) {
      const pg = await pgPurse(cardNo);
      expect(pg).toBe(balanceFen - (spentBy.get(cardNo) ?? 0));
      const cached = await redis.hget(sys.keys.cardState(cardNo), 'pu');
      if (cached !== null) expect(Number(cached), cardNo).toBe(pg);
    }
    expect(await trialBalance()).toMatchObject({ balanced: true, total: 0 });
  }, 120_000);

  it('graceful stop under load: the supervisor drains its workers; nothing stays pending, the other server serves on', async () => {
    const cards = (await Promise.all(Array.from({ length: 8 }, () => issueCard(sys.http, { balance: 100_000 })))).map((c) => c.cardNo);
    const answers = new Map<string, Record<string, unknown>>();
    let next = 0;
    let stopped = false;
    const client = async () => {
      while (!stopped && next < 2000) {
        const i = next++;
        const body = { paymentId: `mp-stop-${i}`, cardNo: cards[i % cards.length]!, amount: 100 };
        try {
          const res = await supervised.request('POST', '/v1/payments', body, pos.headers);
          if (res.status === 200) answers.set(body.paymentId, res.body);
        } catch {
          // refused once the workers stopped accepting
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, client));
    await waitFor('some answers', async () => answers.size >= 100);
    await supervised.stop();
    stopped = true;
    await load;
    // Drained, not killed: every process of the supervisor left with nothing pending, and deregistered.
    expect(await pendingCount(redis, sys.config.redisKeyPrefix)).toBe(0);
    const owners = await redis.smembers(sys.keys.owners());
    const extra = owners.filter((o) => o !== sys.keys.owner && !single.output.includes(o));
    if (extra.length > 0) console.info(`left registered: ${extra.join(' ')}\n${supervised.output.split('\n').filter((l) => extra.some((o) => l.includes(o.split('.')[1]!)) || l.includes('stopping') || l.includes('lease')).slice(-20).join('\n')}`);
    expect(owners.sort()).toEqual([sys.keys.owner, ...(await single.ownerIds())].sort());
    const rows = await sys.pool.query<{ op_id: string; transfer_id: string }>(`SELECT op_id, transfer_id::text FROM transfers WHERE op_kind = 'payment' AND op_id LIKE 'mp-stop-%'`);
    const byId = new Map(rows.rows.map((r) => [r.op_id, r.transfer_id]));
    for (const [paymentId, body] of answers) {
      if (body.approved === true) expect(byId.get(paymentId), paymentId).toBe(body.transactionId);
      else expect(body.code, paymentId).not.toBe('00');
    }
    console.info(`graceful stop under load: ${answers.size} answered, ${rows.rowCount} committed, 0 pending after the stop`);
    const after = await single.request('POST', '/v1/payments', { paymentId: 'mp-stop-after', cardNo: cards[0]!, amount: 100 }, pos.headers).catch((error: unknown) => {
      throw new Error(`the other server does not answer: ${String(error)}\n${single.output.split('\n').slice(-15).join('\n')}`);
    });
    expect(after.body).toMatchObject({ approved: true });
    servers = [single];
  }, 120_000);
});
