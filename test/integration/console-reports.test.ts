// The admin's report download and the console's clearing table: a real clearing run for a day with
// a payment and fares, read back party by party; the file served as written; names outside the
// jobs' pattern, traversal (plain and encoded), symbolic links and directories refused; admin only.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { fare, pay, removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2024-06-03T02:00:00Z')); // 10:00 Shanghai, business date 2024-06-03
const date = '2024-06-03';
let sys: TestSystem;

const get = (url: string, headers: Record<string, string> = admin) => sys.http.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  await removeReports(sys);
  const pos = await retailPos(sys.http, 'M0000000000001');
  const { cardNo } = await issueCard(sys.http, { balance: 100_000 });
  await pay(sys, pos, cardNo, 12_345);
  await pay(sys, pos, cardNo, 655);
  for (const amount of [200, 200, 300]) await fare(sys, { cardNo, operatorId: 'ZZBUS', amount, businessDate: date });
});
afterAll(async () => {
  await removeReports(sys);
  await sys?.destroy();
});

describe('clearing results for the console', () => {
  it('says there is no file before the job ran, then reads the file back as the job wrote it, party by party', async () => {
    const before = (await get(`/v1/admin/console/clearing?businessDate=${date}`)).json();
    expect(before).toMatchObject({ businessDate: date, fileName: null, download: null, rows: [], total: null });

    const run = await runJob(sys, 'clearing', date);
    expect(run.state, run.error ?? '').toBe('completed');
    const res = await get(`/v1/admin/console/clearing?businessDate=${date}`);
    expect(res.statusCode, res.body).toBe(200);
    const table = res.json();
    expect(table.fileName).toBe(`clearing-${date}.csv`);
    expect(table.download).toBe(`/v1/admin/reports/clearing-${date}.csv`);
    const bus = table.rows.find((r: { partyId: string }) => r.partyId === 'ZZBUS');
    expect(bus).toMatchObject({ partyType: 'operator', account: 'receivable', lateDate: null, count: 3, grossFen: 700 });
    expect(bus.commissionFen + bus.netFen).toBe(700);
    const shop = table.rows.find((r: { partyId: string }) => r.partyId === 'M0000000000001');
    expect(shop).toMatchObject({ partyType: 'merchant', account: 'payable', count: 2, grossFen: 13_000 });
    expect(shop.commissionFen + shop.netFen).toBe(13_000);
    expect(table.total.grossFen).toBe(table.rows.reduce((a: number, r: { grossFen: number }) => a + r.grossFen, 0));
    expect(table.total.count).toBe(5);
    // Without a date: the newest clearing file.
    expect((await get('/v1/admin/console/clearing')).json().businessDate).toBe(date);
  });

  it('downloads the settlement file byte for byte, as an attachment', async () => {
    const res = await get(`/v1/admin/reports/clearing-${date}.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="clearing-${date}.csv"`);
    expect(res.body).toBe(await readFile(path.join(sys.config.reportsDir, `clearing-${date}.csv`), 'utf8'));
  });

  it('is for the admin token only', async () => {
    for (const url of [`/v1/admin/reports/clearing-${date}.csv`, `/v1/admin/console/clearing?businessDate=${date}`]) {
      expect((await get(url, {})).statusCode).toBe(401);
      expect((await get(url, { authorization: 'Bearer wrong-token' })).statusCode).toBe(401);
    }
  });

  it('refuses names outside the jobs pattern and any path out of REPORTS_DIR', async () => {
    await writeFile(path.join(sys.config.reportsDir, '..', 'secret-2024-06-03.csv'), 'secret\n');
    for (const name of ['..%2Fsecret-2024-06-03.csv', '..%2F..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'clearing-2024-06-03.csv%00.txt', '.env', 'CLEARING-2024-06-03.CSV', 'clearing-2024-06-03.csv.tmp', '..%5Csecret-2024-06-03.csv']) {
      const res = await get(`/v1/admin/reports/${name}`);
      expect(res.statusCode, name).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('30');
    }
    // Dot segments the router resolves itself never reach a file either.
    for (const url of ['/v1/admin/reports/../secret-2024-06-03.csv', '/v1/admin/reports/../../package.json']) expect((await get(url)).statusCode, url).toBe(404);
  });

  it('answers 404 for a missing file, a symbolic link or a directory under a report name', async () => {
    expect((await get('/v1/admin/reports/clearing-1999-01-01.csv')).statusCode).toBe(404);
    await symlink(path.resolve('package.json'), path.join(sys.config.reportsDir, 'clearing-1999-01-02.csv'));
    await mkdir(path.join(sys.config.reportsDir, 'clearing-1999-01-03.csv'));
    for (const d of ['1999-01-02', '1999-01-03']) {
      const res = await get(`/v1/admin/reports/clearing-${d}.csv`);
      expect(res.statusCode, d).toBe(404);
      expect(res.json()).toMatchObject({ code: '12', title: 'not found' });
      expect((await get(`/v1/admin/console/clearing?businessDate=${d}`)).json().fileName).toBeNull();
    }
  });

  it('a clearing file that is not in the expected format is a 409, not a crash', async () => {
    await writeFile(path.join(sys.config.reportsDir, 'clearing-1999-02-01.csv'), 'not,a,clearing,file\n');
    const res = await get('/v1/admin/console/clearing?businessDate=1999-02-01');
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('95');
    expect((await get('/v1/admin/console/clearing?businessDate=../../x')).statusCode).toBe(400);
  });
});
