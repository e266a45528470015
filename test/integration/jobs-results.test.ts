// Job results: every amount a JSON integer (clearing's differences, the drift report in
// jobs-checks.test.ts), and a rerun of `hotlist` for a date keeps its delta from the version the
// validators were given the day before, even after that day's file was rewritten by its own rerun.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { fare, removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2026-08-03T02:00:00Z'));
let sys: TestSystem;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

const setStatus = async (cardNo: string, status: string) => {
  const res = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status } });
  expect(res.statusCode, res.body).toBe(200);
};

describe('clearing differences', () => {
  it('gives the posted and the recomputed net as JSON integers', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    await fare(sys, { cardNo, operatorId: 'ZZBUS', amount: 1000, businessDate: '2026-08-01' });
    expect((await runJob(sys, 'clearing', '2026-08-01')).state).toBe('completed');
    await fare(sys, { cardNo, operatorId: 'ZZBUS', amount: 200, businessDate: '2026-08-01' });
    const rerun = await runJob(sys, 'clearing', '2026-08-01', true);
    // 1000 × 0.005 = 5 → net 995; 1200 × 0.005 = 6 → net 1194.
    expect(rerun.result!.differences).toEqual([{ party: 'operator:ZZBUS', postedNetFen: 995, recomputedNetFen: 1194 }]);
  });
});

describe('hotlist reruns', () => {
  it('keep the delta since the version of the previous date’s first file', async () => {
    const { cardNo: a } = await issueCard(sys.http);
    const { cardNo: b } = await issueCard(sys.http);
    await setStatus(a, 'lost');
    const first = await runJob(sys, 'hotlist', '2026-08-01');
    const v1 = first.result!.version as number;
    await setStatus(b, 'blocked');
    const day2 = await runJob(sys, 'hotlist', '2026-08-02');
    expect(day2.result).toMatchObject({ previousVersion: v1, deltaChanges: 1 });
    // The 1st is rerun (its file now has the later version); then the 2nd is rerun.
    const rerun1 = await runJob(sys, 'hotlist', '2026-08-01', true);
    expect(rerun1.result!.version as number).toBeGreaterThan(v1);
    const rerun2 = await runJob(sys, 'hotlist', '2026-08-02', true);
    // Before: previousVersion became the rerun's version and the delta lost b's listing.
    expect(rerun2.result).toMatchObject({ previousVersion: v1, deltaChanges: 1 });
  });
});
