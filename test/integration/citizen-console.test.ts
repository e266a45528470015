// The operations console's admin reads against real PostgreSQL and Redis: authorization counts per
// second and by code, ridership with small-count suppression, latest job runs, drift sampling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { maskCardNo } from '../../src/domain/card-number.js';
import { ridershipCellMin } from '../../src/app/console.js';
import { busRide, citizenLogin, hasTaps, longDigitRuns, metroRide } from './citizen-support.js';

let sys: TestSystem;
let pos: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

let seq = 0;
const pay = (cardNo: string, amount: number) => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: `cp-${++seq}`, cardNo, amount } });
const get = (url: string, headers: Record<string, string> = admin) => sys.http.inject({ method: 'GET', url, headers });

type Stats = { perSecond: number; approved: number; declined: number; totals: { code: string; meaning: string; count: number }[]; samples: { at: string; total: number; byCode: Record<string, number> }[] };
const countOf = (s: Stats, code: string) => s.totals.find((t) => t.code === code)?.count ?? 0;
const sampledOf = (s: Stats, code: string) => s.samples.reduce((sum, x) => sum + (x.byCode[code] ?? 0), 0);

const endpoints = ['/v1/admin/stats', '/v1/admin/console/ridership', '/v1/admin/console/jobs', '/v1/admin/console/drift'];

describe('access', () => {
  it('answers only the admin token: 401 without, 403 for a citizen or a terminal', async () => {
    const { cardNo } = await issueCard(sys.http, { pin: '112233' });
    const citizen = await citizenLogin(sys.http, cardNo, '112233');
    for (const url of endpoints) {
      expect((await sys.http.inject({ method: 'GET', url })).statusCode, url).toBe(401);
      expect((await get(url, citizen)).statusCode, url).toBe(403);
      expect((await get(url, pos.headers)).statusCode, url).toBe(403);
      expect((await get(url)).statusCode, url).toBe(200);
    }
  });
});

describe('GET /v1/admin/stats', () => {
  it('counts answers by code and samples them per second', async () => {
    const before = (await get('/v1/admin/stats')).json() as Stats;
    const { cardNo } = await issueCard(sys.http, { balance: 1000 }); // one approved top-up
    for (let i = 0; i < 3; i++) expect((await pay(cardNo, 100)).json().approved).toBe(true);
    for (let i = 0; i < 2; i++) expect((await pay(cardNo, 5000)).json().code).toBe('51');
    const after = (await get('/v1/admin/stats')).json() as Stats;
    expect(countOf(after, '00') - countOf(before, '00')).toBe(4);
    expect(countOf(after, '51') - countOf(before, '51')).toBe(2);
    expect(after.totals.find((t) => t.code === '51')?.meaning).toBe('insufficient funds');
    expect(after.approved).toBe(countOf(after, '00'));
    expect(after.declined).toBe(after.totals.filter((t) => t.code !== '00').reduce((sum, t) => sum + t.count, 0));
    // Within five minutes every answer appears in exactly one one-second sample.
    await expect.poll(async () => sampledOf((await get('/v1/admin/stats')).json(), '51'), { timeout: 4000, interval: 200 }).toBe(countOf(after, '51'));
    const sampled = (await get('/v1/admin/stats')).json() as Stats;
    expect(sampledOf(sampled, '00')).toBe(countOf(sampled, '00'));
    expect(sampled.samples.every((x) => x.total === Object.values(x.byCode).reduce((a, b) => a + b, 0))).toBe(true);
    expect(Math.max(...sampled.samples.map((x) => x.total))).toBeGreaterThan(0);
  });
});

describe('GET /v1/admin/console/ridership', () => {
  beforeAll(async () => {
    const riders = await Promise.all(Array.from({ length: 6 }, () => issueCard(sys.http, { balance: 3000 })));
    for (const r of riders) await busRide(sys, r.cardNo, 'B2');
    for (const r of riders.slice(0, 2)) await busRide(sys, r.cardNo, 'B906');
    for (const r of riders.slice(0, 5)) await metroRide(sys, r.cardNo, 'L1-01', 'L1-09');
    await metroRide(sys, riders[5]!.cardNo, 'L1-03', 'L2-04');
  });

  it('counts boardings per route and hour and the OD matrix, hiding cells under the minimum', async () => {
    const res = await get('/v1/admin/console/ridership');
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r.businessDate).toBe(businessDateOf(sys.clock.now()));
    expect(r.source).toBe(hasTaps(sys) ? 'taps' : 'transfers');
    expect(r.cellMin).toBe(ridershipCellMin);
    const total = (route: string) => r.routes.find((x: { route: string }) => x.route === route)?.total;
    expect(total('B2')).toBe(6);
    expect(total('B906')).toBeNull(); // 2 riders: not published
    expect(r.routes.find((x: { route: string }) => x.route === 'B906')).toBeDefined();
    const b906 = r.byRouteHour.filter((c: { route: string }) => c.route === 'B906');
    expect(b906.every((c: { count: number | null; suppressed: boolean }) => c.count === null && c.suppressed)).toBe(true);
    expect(r.byRouteHour.every((c: { count: number | null; suppressed: boolean }) => c.suppressed || (c.count ?? 0) >= ridershipCellMin)).toBe(true);
    expect(r.od).toContainEqual({ from: 'L1-01', to: 'L1-09', count: 5, suppressed: false });
    expect(r.od).toContainEqual({ from: 'L1-03', to: 'L2-04', count: null, suppressed: true });
    expect(r.stations).toEqual(expect.arrayContaining(['L1-01', 'L1-09']));
  });

  it('answers an empty day, and refuses a malformed date', async () => {
    const empty = (await get('/v1/admin/console/ridership?businessDate=2020-01-01')).json();
    expect(empty).toMatchObject({ businessDate: '2020-01-01', byRouteHour: [], routes: [], od: [] });
    expect((await get('/v1/admin/console/ridership?businessDate=yesterday')).statusCode).toBe(400);
  });
});

describe('GET /v1/admin/console/jobs', () => {
  it('lists the latest run of each job from job_runs, card numbers masked', async () => {
    const table = await sys.pool.query(`SELECT to_regclass('job_runs')::text AS t`);
    const res = await get('/v1/admin/console/jobs');
    expect(res.statusCode).toBe(200);
    if (!table.rows[0].t) {
      expect(res.json()).toEqual({ available: false, columns: [], runs: [] });
      return;
    }
    const { cardNo } = await issueCard(sys.http, { pin: '445566' });
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    const businessDate = businessDateOf(sys.clock.now());
    // A run whose error names a card in full (as a failing job might): the console masks it.
    await sys.pool.query(`INSERT INTO job_runs (job_id, name, business_date, status, error) VALUES ('zz-console-check', 'zz-console-check', $1, 'failed', $2)`, [
      businessDate,
      `card ${cardNo} could not be read`,
    ]);
    for (const name of ['trial-balance', 'hotlist']) {
      const queued = await sys.http.inject({ method: 'POST', url: `/v1/admin/jobs/${name}`, headers: admin, payload: { businessDate } });
      expect(queued.statusCode, queued.body).toBe(202);
      const jobId = queued.json().jobId as string;
      await expect
        .poll(async () => (await get(`/v1/admin/jobs/${name}/${encodeURIComponent(jobId)}`)).json().state, { timeout: 20_000, interval: 50 })
        .toMatch(/completed|failed/);
    }
    const jobs = (await get('/v1/admin/console/jobs')).json();
    expect(jobs.available).toBe(true);
    expect(jobs.columns).toEqual(expect.arrayContaining(['name', 'status']));
    const names = jobs.runs.map((r: Record<string, unknown>) => r.name);
    expect(names).toEqual(expect.arrayContaining(['trial-balance', 'hotlist']));
    expect(new Set(names).size).toBe(names.length); // one row per job
    expect(jobs.runs.find((r: Record<string, unknown>) => r.name === 'trial-balance').status).toBe('completed');
    expect(jobs.runs.find((r: Record<string, unknown>) => r.name === 'zz-console-check').error).toBe(`card ${maskCardNo(cardNo)} could not be read`);
    expect(longDigitRuns(JSON.stringify(jobs))).toEqual([]);
  });
});

describe('GET /v1/admin/console/drift', () => {
  it('finds cached balances equal to PostgreSQL, then reports a corrupted one, masked', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    expect((await pay(cardNo, 100)).json().approved).toBe(true); // cached now
    const ok = (await get('/v1/admin/console/drift')).json();
    expect(ok.ok).toBe(true);
    expect(ok.sampled).toBeGreaterThan(0);
    expect(ok.matched + ok.inFlight).toBe(ok.sampled);
    expect(ok.drifted).toEqual([]);

    await sys.redis.hset(sys.keys.cardState(cardNo), 'pu', '999999');
    const bad = (await get('/v1/admin/console/drift')).json();
    expect(bad.ok).toBe(false);
    expect(bad.drifted).toContainEqual({ card: maskCardNo(cardNo), redisPurse: 999999, pgPurse: 1900, redisMedical: 0, pgMedical: 0 });
    expect(JSON.stringify(bad)).not.toContain(cardNo);
    await sys.gate.forget(cardNo); // back to the ledger's truth
    expect((await get('/v1/admin/console/drift')).json().ok).toBe(true);
  });

  it('does not count a card with a command in flight as drift', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    expect((await pay(cardNo, 100)).json().approved).toBe(true);
    await sys.redis.hset(sys.keys.cardState(cardNo), 'pu', '1800'); // as if a 100 payment passed the gate …
    await sys.redis.sadd(sys.keys.pending(cardNo), `${cardNo} payment:in-flight`); // … and awaits its commit
    const r = (await get('/v1/admin/console/drift')).json();
    expect(r.ok).toBe(true);
    expect(r.inFlight).toBeGreaterThanOrEqual(1);
    await sys.redis.srem(sys.keys.pending(cardNo), `${cardNo} payment:in-flight`);
    await sys.gate.forget(cardNo);
  });
});
