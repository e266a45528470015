// Nightly jobs over HTTP against real PostgreSQL and Redis: enqueue by name and date, a duplicate
// enqueue is a no-op, reruns get a new jobId, bad names and dates are refused, state and result are
// read back, and the dashboard sits behind the admin token (issue: nightly jobs).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin } from '../support/fixtures.js';
import { jobsKeyPrefix } from '../../src/wiring/jobs.js';
import { removeReports, waitForRun } from './jobs-support.js';

let sys: TestSystem;

beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

const post = (name: string, payload?: unknown) => sys.http.inject({ method: 'POST', url: `/v1/admin/jobs/${name}`, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });

describe('POST /v1/admin/jobs/:name', () => {
  it('answers 202 with the jobId of the date, runs it, and a second enqueue is a no-op', async () => {
    const first = await post('trial-balance', { businessDate: '2024-03-01' });
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toEqual({ jobId: 'trial-balance@2024-03-01', name: 'trial-balance', businessDate: '2024-03-01', created: true });
    const done = await waitForRun(sys, 'trial-balance', first.json().jobId);
    expect(done.state).toBe('completed');
    expect(done.result).toMatchObject({ businessDate: '2024-03-01', balanced: true, totalFen: 0 });
    expect(done.progress).toBe(100);
    expect(done.attempts).toBe(1);

    const again = await post('trial-balance', { businessDate: '2024-03-01' });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ jobId: 'trial-balance@2024-03-01', created: false });
    const runs = await sys.pool.query(`SELECT job_id, status FROM job_runs WHERE name = 'trial-balance' AND business_date = '2024-03-01'`);
    expect(runs.rows).toEqual([{ job_id: 'trial-balance@2024-03-01', status: 'completed' }]);
  });

  it('makes a new jobId for a rerun of a finished date, and records both runs', async () => {
    const first = await post('trial-balance', { businessDate: '2024-03-02' });
    await waitForRun(sys, 'trial-balance', first.json().jobId);
    const rerun = await post('trial-balance', { businessDate: '2024-03-02', rerun: true });
    expect(rerun.statusCode).toBe(202);
    expect(rerun.json()).toMatchObject({ jobId: 'trial-balance@2024-03-02@r2', created: true });
    const done = await waitForRun(sys, 'trial-balance', 'trial-balance@2024-03-02@r2');
    expect(done).toMatchObject({ state: 'completed', rerun: true, businessDate: '2024-03-02' });
    const third = await post('trial-balance', { businessDate: '2024-03-02', rerun: true });
    expect(third.json().jobId).toBe('trial-balance@2024-03-02@r3');
    await waitForRun(sys, 'trial-balance', 'trial-balance@2024-03-02@r3');
  });

  it('defaults to the previous business date', async () => {
    const res = await post('trial-balance', {});
    expect(res.statusCode, res.body).toBe(202);
    const today = new Date(Date.now() + 8 * 3600_000 - 4 * 3600_000).toISOString().slice(0, 10);
    expect(res.json().businessDate).toBe(new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10));
    await waitForRun(sys, 'trial-balance', res.json().jobId);
  });

  it('refuses an unknown job (404), a malformed or impossible date (400), extra fields (400), and non-admin callers', async () => {
    expect((await post('no-such-job', { businessDate: '2024-03-01' })).statusCode).toBe(404);
    for (const businessDate of ['2024-3-1', '2024-02-30', '2023-02-29', 'yesterday', '2024-13-01']) {
      const res = await post('clearing', { businessDate });
      expect(res.statusCode, businessDate).toBe(400);
      expect(res.json().code).toBe('30');
    }
    expect((await post('clearing', { businessDate: '2024-03-01', extra: 1 })).statusCode).toBe(400);
    expect((await post('clearing', { businessDate: 20240301 })).statusCode).toBe(400);
    const anonymous = await sys.http.inject({ method: 'POST', url: '/v1/admin/jobs/clearing', payload: { businessDate: '2024-03-01' } });
    expect(anonymous.statusCode).toBe(401);
    expect(await sys.pool.query(`SELECT 1 FROM job_runs WHERE name = 'clearing'`).then((r) => r.rowCount)).toBe(0);
  });
});

describe('GET /v1/admin/jobs/:name/:jobId', () => {
  it('answers 404 for an unknown run or a run of another job', async () => {
    expect((await sys.http.inject({ method: 'GET', url: '/v1/admin/jobs/clearing/clearing@1999-01-01', headers: admin })).statusCode).toBe(404);
    const res = await post('trial-balance', { businessDate: '2024-03-05' });
    await waitForRun(sys, 'trial-balance', res.json().jobId);
    expect((await sys.http.inject({ method: 'GET', url: `/v1/admin/jobs/clearing/${res.json().jobId}`, headers: admin })).statusCode).toBe(404);
  });

  it('lists the calendar with the next run of each scheduler, in Asia/Shanghai after 04:00', async () => {
    // Under the test runner the schedulers are not installed at start (JOBS_SCHEDULERS); install them here.
    await sys.jobs.nightly.schedule();
    const res = await sys.http.inject({ method: 'GET', url: '/v1/admin/jobs', headers: admin });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.timezone).toBe('Asia/Shanghai');
    expect(body.jobs.map((j: { name: string }) => j.name)).toEqual(['close-journeys', 'clearing', 'reconcile-terminals', 'medical-claims', 'hotlist', 'trial-balance', 'redis-drift', 'ridership']);
    for (const j of body.jobs as { at: string; nextRunAt: string }[]) {
      expect(j.nextRunAt).not.toBeNull();
      // The next run falls at the job's wall-clock time in Shanghai (UTC+8).
      const local = new Date(Date.parse(j.nextRunAt) + 8 * 3600_000).toISOString().slice(11, 16);
      expect(local).toBe(j.at);
      expect(j.at > '04:00').toBe(true);
    }
  });
});

describe('job infrastructure', () => {
  it('keeps BullMQ keys under the system prefix and writes reports into REPORTS_DIR', async () => {
    const prefix = jobsKeyPrefix(sys.config.redisKeyPrefix);
    expect(prefix.startsWith(sys.config.redisKeyPrefix)).toBe(true);
    const keys = await sys.redis.keys(`${prefix}:nightly:*`);
    expect(keys.length).toBeGreaterThan(0);
    const run = await waitForRun(sys, 'trial-balance', 'trial-balance@2024-03-01');
    const file = path.join(sys.config.reportsDir, 'trial-balance-2024-03-01.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ balanced: true });
    expect((run.result as { file: { fileName: string } }).file.fileName).toBe('trial-balance-2024-03-01.json');
    expect(sys.jobs.nightly.queue.name).toBe('nightly');
  });
});

describe('dashboard /admin/queues', () => {
  it('refuses callers without the admin token', async () => {
    expect((await sys.http.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(401);
    expect((await sys.http.inject({ method: 'GET', url: '/admin/queues/api/queues' })).statusCode).toBe(401);
    expect((await sys.http.inject({ method: 'GET', url: '/admin/queues?token=wrong-token-123' })).statusCode).toBe(401);
    expect((await sys.http.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: 'cc_jobs_dashboard=99999999999999.forged' } })).statusCode).toBe(401);
  });

  it('serves the board to the admin bearer token', async () => {
    const page = await sys.http.inject({ method: 'GET', url: '/admin/queues', headers: admin });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const api = await sys.http.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: admin });
    expect(api.statusCode, api.body).toBe(200);
    expect(JSON.stringify(api.json())).toContain('nightly');
  });

  it('takes ?token= once from a browser, then a cookie', async () => {
    const login = await sys.http.inject({ method: 'GET', url: `/admin/queues?token=${admin.authorization.slice(7)}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin/queues');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).not.toContain(admin.authorization.slice(7));
    const cookie = setCookie.split(';')[0]!;
    const page = await sys.http.inject({ method: 'GET', url: '/admin/queues', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    const api = await sys.http.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } });
    expect(api.statusCode).toBe(200);
    // The cookie opens only the dashboard, not the admin API.
    expect((await sys.http.inject({ method: 'GET', url: '/v1/admin/jobs', headers: { cookie } })).statusCode).toBe(401);
  });
});
