// Hole 10 of the security review (docs/security.md "Dependencies down and bad input"): bad ids,
// cursors, limits and dates are 400/30 at the edge, not PostgreSQL range errors (500); with Redis
// down money calls answer 503/91 fast and readiness says not ready; error logs carry their message;
// the nightly schedulers come back by themselves after a Redis flush. Uses a private redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos, busValidator, type RegisteredTerminal } from '../support/fixtures.js';
import { createJobs } from '../../src/wiring/jobs.js';
import { nightlyCalendar } from '../../src/app/jobs/calendar.js';
import { citizenLogin } from './citizen-support.js';
import { adminUrl } from '../support/db-names.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

/** How fast a refusal must come while Redis is down (the old code stalled 1.5–4 s, then 500/96). */
const downAnswerMsMax = 300;

let port = 0;
let server: ChildProcess | null = null;
let sys: TestSystem;
let pos: RegisteredTerminal;
let kioskT: RegisteredTerminal;
let bus: RegisteredTerminal;
let cardNo: string;
let citizen: { authorization: string };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused until the server listens
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error('private redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const s = server;
  server = null;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL'); // the private server only, by its own pid
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  sys = await createTestSystem({ env: { REDIS_URL: `redis://127.0.0.1:${port}/0` } });
  pos = await retailPos(sys.http);
  kioskT = await kiosk(sys.http);
  bus = await busValidator(sys.http);
  ({ cardNo } = await issueCard(sys.http, { pin: '112358', balance: 10_000 }));
  citizen = await citizenLogin(sys.http, cardNo, '112358');
}, 60_000);

afterAll(async () => {
  if (!server) await startRedis(); // destroy cleans the system's keys in its Redis
  await sys?.destroy();
  await stopRedis();
});

const get = (url: string, headers: Record<string, string> = admin) => sys.http.inject({ method: 'GET', url, headers });

describe('bad input at the edge: 400/30, never a 500', () => {
  it('cursors beyond bigint, limits beyond three digits and non-digits', async () => {
    for (const url of [
      `/v1/cards/${cardNo}/transactions?cursor=9999999999999999999`,
      `/v1/cards/${cardNo}/transactions?cursor=99999999999999999999999`,
      `/v1/cards/${cardNo}/transactions?cursor=-1`,
      `/v1/cards/${cardNo}/transactions?limit=99999`,
      `/v1/cards/${cardNo}/transactions?limit=1e3`,
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code, url).toBe('30');
    }
    for (const url of ['/v1/citizen/transactions?cursor=9999999999999999999', '/v1/citizen/transactions?cursor=1%00']) {
      const res = await get(url, citizen);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('30');
    }
    const hot = await get('/v1/hotlist?since=9999999999999999999', bus.headers);
    expect(hot.statusCode).toBe(400);
    expect(hot.json().code).toBe('30');
    // The largest cursor that is accepted is a valid (empty) page, not a 500.
    const edge = await get(`/v1/cards/${cardNo}/transactions?cursor=999999999999999999`);
    expect(edge.statusCode).toBe(200);
  });

  it('business dates that are not calendar days', async () => {
    for (const date of ['9999-99-99', '2026-02-30', '2026-13-01', '0000-00-00']) {
      const ridership = await get(`/v1/admin/console/ridership?businessDate=${date}`);
      expect(ridership.statusCode, date).toBe(400);
      expect(ridership.json().code).toBe('30');
      const job = await sys.http.inject({ method: 'POST', url: '/v1/admin/jobs/trial-balance', headers: admin, payload: { businessDate: date } });
      expect(job.statusCode, date).toBe(400);
      expect(job.json().code).toBe('30');
    }
    expect((await get('/v1/admin/console/ridership?businessDate=2028-02-29')).statusCode).toBe(200);
  });

  it('ids out of range in bodies and paths', async () => {
    const card = await sys.http.inject({ method: 'POST', url: '/v1/admin/cards', headers: admin, payload: { citizenId: 1e20, cardType: 'adult' } });
    expect(card.statusCode).toBe(400);
    expect(card.json().code).toBe('30');
    const order = await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${'9'.repeat(40)}`, headers: citizen });
    expect(order.statusCode).toBe(400);
    const reverse = await sys.http.inject({ method: 'POST', url: `/v1/payments/${'x'.repeat(65)}/reverse`, headers: pos.headers, payload: {} });
    expect(reverse.statusCode).toBe(400);
    expect(sys.logLines.filter((l) => l.includes('"status":500'))).toEqual([]);
  });
});

describe('Redis down', () => {
  it('money calls answer 503/91 fast, readiness says not ready, and service returns with Redis', async () => {
    const before = (await get(`/v1/cards/${cardNo}/balance`)).json().purse as number;
    await stopRedis();
    await new Promise((r) => setTimeout(r, 100)); // the client sees the socket close
    const calls = [
      () => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'down-1', cardNo, amount: 100 } }),
      () => sys.http.inject({ method: 'POST', url: '/v1/topups', headers: kioskT.headers, payload: { topupId: 'down-2', cardNo, amount: 100, channel: 'kiosk' } }),
      () => sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: 'down-3', cardNo, amount: 100, channel: 'bank' } }),
      () => sys.http.inject({ method: 'POST', url: '/v1/refunds', headers: pos.headers, payload: { refundId: 'down-4', paymentId: 'x', amount: 100 } }),
      () => sys.http.inject({ method: 'POST', url: '/v1/taps', headers: bus.headers, payload: { tapId: 'down-5', cardNo, tappedAt: new Date().toISOString() } }),
      () => sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin }),
      () => sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin: '112358' } }),
    ];
    for (const call of calls) {
      const started = performance.now();
      const res = await call();
      const ms = performance.now() - started;
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().code).toBe('91');
      expect(res.headers['retry-after']).toBeDefined();
      expect(ms).toBeLessThan(downAnswerMsMax);
    }
    const ready = await get('/health/ready', {});
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not ready', redis: 'down', postgres: 'ok' });
    expect((await get('/health/live', {})).statusCode).toBe(200);

    await startRedis(); // an empty Redis: the card cache is rebuilt from PostgreSQL
    await expect.poll(async () => (await get('/health/ready', {})).statusCode, { timeout: 15_000, interval: 100 }).toBe(200);
    const pay = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'after-1', cardNo, amount: 100 } });
    expect(pay.json()).toMatchObject({ approved: true, balance: before - 100 });
    const tb = await get('/v1/admin/trial-balance');
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
    // No log line lost an error's message.
    expect(sys.logLines.filter((l) => l.includes('"err":{}'))).toEqual([]);
  }, 60_000);
});

describe('Redis down, ISO 8583', () => {
  it('a purchase is answered 91 fast, moves nothing, and the same STAN is served once Redis is back', async () => {
    const before = (await get(`/v1/cards/${cardNo}/balance`)).json().purse as number;
    const client = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const fields = new Map<number, FieldValue>([
      [2, cardNo],
      [3, '000000'],
      [4, amountField(150n)],
      [7, transmissionDateTime(new Date())],
      [11, '424242'],
      [41, pos.terminalId],
      [42, merchantField('M0000000000001')],
      [49, '156'],
    ]);
    const mak = Buffer.from(pos.mak, 'hex');
    try {
      // The terminal's keys are cached by a first message while Redis is up.
      const echo = await client.request({ mti: '0800', fields: new Map<number, FieldValue>([[7, transmissionDateTime(new Date())], [11, '424241'], [41, pos.terminalId], [70, '301']]) });
      expect(fieldText(echo, 39)).toBe('00');
      await stopRedis();
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      const down = await client.request({ mti: '0200', fields }, mak);
      expect(fieldText(down, 39)).toBe('91');
      expect(performance.now() - started).toBeLessThan(downAnswerMsMax);
      await startRedis();
      await expect.poll(async () => (await get('/health/ready', {})).statusCode, { timeout: 15_000, interval: 100 }).toBe(200);
      // 91 is "not done": the retry of the same message is processed, not replayed.
      const retry = await client.request({ mti: '0200', fields }, mak);
      expect(fieldText(retry, 39)).toBe('00');
      expect((await get(`/v1/cards/${cardNo}/balance`)).json().purse).toBe(before - 150);
      expect((await get('/v1/admin/trial-balance')).json()).toMatchObject({ balanced: true, total: 0 });
    } finally {
      client.close();
      if (!server) await startRedis();
    }
  }, 60_000);
});

describe('PostgreSQL unreachable', () => {
  it('a call that fails on it answers 503/91, and the error is logged with its message and stack', async () => {
    const adminDb = new pg.Client({ connectionString: adminUrl() });
    await adminDb.connect();
    try {
      // This file's own database refuses new connections and loses the open ones.
      await adminDb.query(`ALTER DATABASE "${sys.dbName}" ALLOW_CONNECTIONS false`);
      await adminDb.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [sys.dbName]);
      await new Promise((r) => setTimeout(r, 200));
      const res = await get('/v1/admin/trial-balance');
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().code).toBe('91');
      const line = sys.logLines.map((l) => JSON.parse(l) as { msg?: string; err?: { message?: string; stack?: string } }).find((l) => l.msg === 'request failed: dependency down');
      expect(line?.err?.message).toBeTruthy();
      expect(line?.err?.stack).toContain('\n');
    } finally {
      await adminDb.query(`ALTER DATABASE "${sys.dbName}" ALLOW_CONNECTIONS true`);
      await adminDb.end();
    }
    await expect.poll(async () => (await get('/v1/admin/trial-balance')).statusCode, { timeout: 10_000, interval: 100 }).toBe(200);
  }, 30_000);
});

describe('job schedulers after a Redis flush', () => {
  it('come back by themselves', async () => {
    if (!server) await startRedis();
    const jobs = createJobs(sys, { schedulerCheckMs: 100 });
    try {
      await jobs.schedule();
      jobs.keepScheduled();
      expect(await jobs.missingSchedulers()).toEqual([]);
      const flusher = new Redis(port, '127.0.0.1');
      await flusher.flushall(); // the private server of this file, never the shared one
      flusher.disconnect();
      expect((await jobs.missingSchedulers()).length).toBe(nightlyCalendar.length);
      await expect.poll(() => jobs.missingSchedulers(), { timeout: 10_000, interval: 100 }).toEqual([]);
      expect(sys.logLines.some((l) => l.includes('job schedulers were missing'))).toBe(true);
    } finally {
      await jobs.close();
    }
  }, 30_000);
});
