// Crash safety of the authorization core (issue: authorization core): the real server process is
// SIGKILLed under a concurrent payment load and restarted on the same database and Redis prefix
// (once with Redis intact, once with the prefix's keys flushed while it is down). Every approval
// that was answered must be in the ledger exactly once, replay unchanged, and Redis must agree
// with PostgreSQL after startup recovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { adminToken, deleteByPrefix, dropDatabase, testClusterUrl, testOnCluster } from '../support/system.js';
import { connectRedis } from '../../src/adapters/redis/client.js';
import { adminUrl, templateDb, urlFor } from '../support/db-names.js';
import { pendingCount } from '../support/pending.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const redisUrl = testOnCluster ? testClusterUrl : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const readyWaitMsMax = 40_000;
const cardCount = 20;
const cardBalanceFen = 5_000;
const inFlight = 40;
const paymentsMax = 800;
/** The kill comes once this many answers are in and the server has commands pending. */
const answersBeforeKill = 150;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON client bound to one server process: its own keep-alive agent, dropped with the process. */
class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: inFlight + 10 });

  constructor(private readonly port: number) {}

  request(method: string, url: string, body?: unknown, token = adminToken): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: url,
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** One server process (npx tsx src/main.ts) in its own process group, so SIGKILL reaches the node process itself. */
class Server {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  output = '';

  constructor(
    readonly dbName: string,
    readonly prefix: string,
    readonly port: number,
  ) {}

  async start(): Promise<Client> {
    const child = spawn('npx', ['tsx', 'src/main.ts'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: urlFor(this.dbName),
        REDIS_URL: redisUrl,
        REDIS_CLUSTER: testOnCluster ? '1' : '0',
        REDIS_KEY_PREFIX: this.prefix,
        ADMIN_TOKEN: adminToken,
        SEED: '0',
        HTTP_PORT: String(this.port),
        HTTP_HOST: '127.0.0.1',
        ISO_PORT: '0',
        ISO_TLS_PORT: '0',
        HTTPS_PORT: '0',
        LOG_LEVEL: 'warn',
        REPORTS_DIR: `var/test-reports/${this.dbName}`,
        // A batch wait that keeps commands in flight between the gate and the commit (longer on the
        // cluster, where counting the pending marks scans three masters before the kill lands).
        LEDGER_BATCH_WAIT_MS: testOnCluster ? '120' : '40',
        WEB_CONCURRENCY: '1',
      },
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const client = new Client(this.port);
    const deadline = Date.now() + readyWaitMsMax;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.output}`);
      const ready = await client.request('GET', '/health/ready').catch(() => null);
      if (ready?.status === 200) return client;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready after ${readyWaitMsMax} ms:\n${this.output}`);
  }

  /** SIGKILL to the whole process group (npx, tsx and the node process that serves). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
    await this.exited;
    this.child = null;
  }
}

/**
 * A database cloned from the migrated template, named `ccx_<pid>_…` rather than `cct_…`: a test
 * run started meanwhile drops every `cct_` database as stale, and this file runs for half a minute.
 * Its own leftovers are dropped here only when the process that made them is gone.
 */
async function createCrashDatabase(): Promise<string> {
  const name = `ccx_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const old = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'ccx\\_%'`);
    for (const { datname } of old.rows) {
      const pid = Number(datname.split('_')[1]);
      if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDb}"`);
  } finally {
    await admin.end();
  }
  return name;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  return deleteByPrefix(redis, prefix);
}

interface Payment {
  paymentId: string;
  cardNo: string;
  amount: number;
}

/** One database, Redis prefix and server for the file; two crash rounds run on it in turn. */
const world = {
  dbName: '',
  prefix: '',
  server: null as Server | null,
  client: null as Client | null,
  redis: null as Redis | null,
  db: null as pg.Client | null,
  apiKey: '',
  cards: [] as string[],
  issued: [] as Payment[],
  answers: new Map<string, Record<string, unknown>>(),
  /** Phase timings of the rounds, shown when a round fails or runs long. */
  timings: [] as string[],
};

function timed<T>(label: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  return work.finally(() => world.timings.push(`${label} ${Date.now() - started} ms`));
}

beforeAll(async () => {
  world.dbName = await createCrashDatabase();
  world.prefix = `t:${world.dbName}:`;
  world.server = new Server(world.dbName, world.prefix, await freePort());
  world.redis = connectRedis(redisUrl, testOnCluster, {});
  world.db = new pg.Client({ connectionString: urlFor(world.dbName) });
  world.db.on('error', () => undefined); // a dropped connection fails the next query, which the test reports
  await world.db.connect();

  // A server with a POS terminal and cards that hold money, set up through the HTTP API.
  const client = await timed('first start', world.server.start());
  world.client = client;
  const terminal = await client.request('POST', '/v1/admin/terminals', { terminalId: 'CRASHPOS', kind: 'pos', merchantId: 'M0000000000001' });
  expect(terminal.status, JSON.stringify(terminal.body)).toBe(201);
  world.apiKey = String(terminal.body.apiKey);
  for (let i = 0; i < cardCount; i++) {
    const citizen = await client.request('POST', '/v1/admin/citizens', { name: `Crash ${i}`, idNumber: `110101199001${String(10_000 + i)}X` });
    expect(citizen.status, JSON.stringify(citizen.body)).toBe(201);
    const card = await client.request('POST', '/v1/admin/cards', { citizenId: citizen.body.citizenId, cardType: 'adult' });
    expect(card.status).toBe(201);
    const cardNo = String(card.body.cardNo);
    const topup = await client.request('POST', '/v1/topups', { topupId: `crash-init-${i}`, cardNo, amount: cardBalanceFen, channel: 'bank' });
    expect(topup.body).toMatchObject({ approved: true });
    world.cards.push(cardNo);
  }
}, 90_000);

afterAll(async () => {
  await world.server?.kill().catch(() => undefined);
  world.client?.close();
  if (world.redis) {
    await deleteKeys(world.redis, world.prefix).catch(() => undefined);
    world.redis.disconnect();
  }
  await world.db?.end().catch(() => undefined);
  if (world.dbName) await dropDatabase(world.dbName).catch(() => undefined);
});

/** Concurrent payments with unique ids; SIGKILL once enough answers are in and commands are pending. */
async function loadAndKill(round: number): Promise<void> {
  const { server, redis, apiKey, cards, answers } = world;
  const client = world.client!;
  const sent: Payment[] = [];
  for (let i = 0; i < paymentsMax; i++) sent.push({ paymentId: `crash-${round}-${i}`, cardNo: cards[i % cardCount]!, amount: 50 + ((i * 37) % 250) });
  const answeredBefore = answers.size;
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (!killed && next < sent.length) {
      const body = sent[next++]!;
      try {
        const res = await client.request('POST', '/v1/payments', body, apiKey);
        if (res.status === 200) answers.set(body.paymentId, res.body);
      } catch {
        // no answer: the process died with this request in flight
      }
    }
  };
  const load = Promise.all(Array.from({ length: inFlight }, worker));
  while (answers.size - answeredBefore < answersBeforeKill && next < sent.length) await new Promise((r) => setTimeout(r, 2));
  // Kill while commands sit between the gate and their commit (a 40 ms batch wait keeps them there).
  const killBy = Date.now() + 10_000;
  while (Date.now() < killBy && (await pendingCount(redis!, world.prefix)) < 2) await new Promise((r) => setImmediate(r));
  await server!.kill('SIGKILL');
  killed = true;
  await load;
  client.close();
  world.client = null;
  const pendingAtKill = await pendingCount(redis!, world.prefix);
  world.timings.push(`round ${round}: issued ${next}, answered ${answers.size - answeredBefore}, pending at kill ${pendingAtKill}`);
  expect(pendingAtKill, 'the kill should land while commands are between gate and commit').toBeGreaterThan(0);
  expect(next).toBeLessThan(sent.length); // the load was cut short
  world.issued.push(...sent.slice(0, next));
}

/** Restart on the same database and prefix, then check everything that was answered or sent. */
async function restartAndVerify(round: number, opts: { redisLost: boolean }): Promise<void> {
  const { redis, db, apiKey, cards, answers, issued } = world;
  const client = await timed(`round ${round} restart`, world.server!.start());
  world.client = client;
  // Startup recovery ran before ready: nothing is left pending.
  expect(await pendingCount(redis!, world.prefix)).toBe(0);

  // Every answered approval is in the ledger exactly once, under the answered transaction id.
  const rows = await db!.query<{ op_id: string; transfer_id: string }>(`SELECT op_id, transfer_id::text FROM transfers WHERE op_kind = 'payment'`);
  const byId = new Map<string, string[]>();
  for (const row of rows.rows) byId.set(row.op_id, [...(byId.get(row.op_id) ?? []), row.transfer_id]);
  const approved = [...answers.entries()].filter(([, b]) => b.approved === true);
  expect(approved.length).toBeGreaterThan(0);
  for (const [paymentId, body] of approved) expect(byId.get(paymentId), paymentId).toEqual([body.transactionId]);
  // Nothing in the ledger that was not sent, nor anything that was answered with a decline.
  const issuedIds = new Set(issued.map((b) => b.paymentId));
  for (const id of byId.keys()) if (!id.startsWith('crash-probe-')) expect(issuedIds.has(id), id).toBe(true);
  for (const [paymentId, body] of answers) if (body.approved !== true) expect(byId.has(paymentId), paymentId).toBe(false);

  // Replays: an answered approval returns the same answer; an unanswered command that committed is
  // answered from the ledger; one that did not commit runs now, at most once.
  const replayed = await timed(
    `round ${round} replays`,
    Promise.all(issued.map((b) => client.request('POST', '/v1/payments', b, apiKey))),
  );
  for (const [i, b] of issued.entries()) {
    const replay = replayed[i]!;
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    const first = answers.get(b.paymentId);
    const committed = byId.get(b.paymentId);
    if (first?.approved === true) expect(replay.body, b.paymentId).toEqual(first);
    else if (first && !opts.redisLost) expect(replay.body, b.paymentId).toEqual(first); // a remembered decline
    else if (committed) expect(replay.body, b.paymentId).toMatchObject({ approved: true, transactionId: committed[0] });
    answers.set(b.paymentId, replay.body); // answered now; the next round holds it to this answer
  }
  const doubled = await db!.query(`SELECT op_id FROM transfers WHERE op_kind = 'payment' GROUP BY op_id HAVING count(*) > 1`);
  expect(doubled.rows).toEqual([]);

  // Every card, loaded into Redis (a 1-fen payment loads it), agrees with PostgreSQL.
  for (const [i, cardNo] of cards.entries()) await client.request('POST', '/v1/payments', { paymentId: `crash-probe-${round}-${i}`, cardNo, amount: 1 }, apiKey);
  const balances = await db!.query<{ owner_id: string; balance: string }>(`SELECT owner_id, balance::text FROM accounts WHERE kind = 'purse' AND owner_id = ANY($1)`, [cards]);
  expect(balances.rows).toHaveLength(cardCount);
  const paid = await db!.query<{ card_no: string; total: string }>(`SELECT card_no, sum(amount)::text AS total FROM transfers WHERE op_kind = 'payment' GROUP BY card_no`);
  const paidBy = new Map(paid.rows.map((r) => [r.card_no, BigInt(r.total)]));
  for (const { owner_id: cardNo, balance } of balances.rows) {
    expect(await redis!.hget(`${world.prefix}{card:${cardNo}}:s`, 'pu'), cardNo).toBe(balance);
    // The ledger itself: each purse is its top-up minus its payments, never below zero.
    expect(BigInt(balance)).toBe(BigInt(cardBalanceFen) - (paidBy.get(cardNo) ?? 0n));
    expect(BigInt(balance)).toBeGreaterThanOrEqual(0n);
  }

  // The trial balance is zero and every balance equals its postings.
  const tb = await client.request('GET', '/v1/admin/trial-balance');
  expect(tb.body).toMatchObject({ balanced: true, total: 0, mismatched: [] });
}

describe('SIGKILL under load, then restart on the same database and Redis prefix', () => {
  it('round 1, Redis intact: answered approvals durable and replayable, Redis = PostgreSQL', async () => {
    try {
      await timed('round 1 load', loadAndKill(1));
      await restartAndVerify(1, { redisLost: false });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${world.timings.join('\n')}\n${world.server?.output ?? ''}`, { cause: error });
    }
  }, 90_000);

  it('round 2, the prefix’s Redis keys deleted while the server is down: the same holds', async () => {
    try {
      await timed('round 2 load', loadAndKill(2));
      expect(await deleteKeys(world.redis!, world.prefix)).toBeGreaterThan(0);
      await restartAndVerify(2, { redisLost: true });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${world.timings.join('\n')}\n${world.server?.output ?? ''}`, { cause: error });
    }
  }, 90_000);
});
