// The fund's claim file of a generated day (issue: nightly jobs): settlements and cancels through
// the real medical API, the fund's share per claim (cancels negative), what the card paid, totals.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, medicalPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { removeReports, runJob } from './jobs-support.js';

const date = '2024-08-01';
const clock = fixedClock(new Date('2024-07-31T02:00:00Z'));
let sys: TestSystem;
let hospital: RegisteredTerminal;
let insured: string;
let uninsured: string;

async function settle(claimId: string, cardNo: string, items: { code: string; amount: number; eligible: boolean }[]): Promise<Record<string, unknown>> {
  const res = await sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: hospital.headers, payload: { claimId, cardNo, items, usePurse: true } });
  expect(res.json().approved, res.body).toBe(true);
  return res.json();
}

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  hospital = await medicalPos(sys.http, 'M0000000000101');
  ({ cardNo: insured } = await issueCard(sys.http, { balance: 100_000, medical: 50_000, insured: true }));
  ({ cardNo: uninsured } = await issueCard(sys.http, { balance: 10_000, medical: 2_000, insured: false }));
  // The day before: not in the file of 2024-08-01 (it does not touch the deductible either: uninsured).
  await settle('K0', uninsured, [{ code: 'X0', amount: 100, eligible: true }]);
  clock.set(new Date(`${date}T02:00:00Z`));
  // Hand-computed with the demo policy (deductible 80000, fund rate 0.70, this year's state empty):
  // K1: eligible 100000; 80000 against the deductible; fund 0.70 × 20000 = 14000; the personal
  //     86000 from the medical account (50000) and the purse (36000).
  expect(await settle('K1', insured, [{ code: 'CT01', amount: 100_000, eligible: true }])).toMatchObject({ fund: 14_000, personal: 50_000, purse: 36_000, cash: 0 });
  // K2: deductible used up; fund 0.70 × 10001 = 7000.7 → 7001; personal 3000, all from the purse.
  expect(await settle('K2', insured, [{ code: 'DRUG7', amount: 10_001, eligible: true }])).toMatchObject({ fund: 7_001, personal: 0, purse: 3_000 });
  const cancel = await sys.http.inject({ method: 'POST', url: '/v1/medical/K2/cancel', headers: hospital.headers, payload: {} });
  expect(cancel.json().approved, cancel.body).toBe(true);
  // K3: uninsured, no fund share; 6000 from the medical account (1900 left after K0) then the purse (4100).
  expect(
    await settle('K3', uninsured, [
      { code: 'X1', amount: 5_000, eligible: true },
      { code: 'R1', amount: 1_000, eligible: false },
    ]),
  ).toMatchObject({ fund: 0, personal: 1_900, purse: 4_100 });
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

describe('medical-claims', () => {
  it('writes each claim with the fund share, cancels negative, and the totals', async () => {
    const run = await runJob(sys, 'medical-claims', date);
    expect(run.state, run.error ?? '').toBe('completed');
    expect(run.result).toMatchObject({ settlements: 3, cancels: 1, fundFen: 14_000, medicalAccountFen: 51_900, purseFen: 40_100 });
    const t = hospital.terminalId;
    const m = 'M0000000000101';
    expect(await readFile(path.join(sys.config.reportsDir, `medical-claims-${date}.csv`), 'utf8')).toBe(
      [
        'business_date,claim_id,kind,merchant_id,terminal_id,card_no,fund_fen,medical_account_fen,purse_fen,card_paid_fen',
        `${date},K1,settle,${m},${t},${insured},14000,50000,36000,86000`,
        `${date},K2,settle,${m},${t},${insured},7001,0,3000,3000`,
        `${date},K2,cancel,${m},${t},${insured},-7001,0,-3000,-3000`,
        `${date},K3,settle,${m},${t},${uninsured},0,1900,4100,6000`,
        `${date},TOTAL,3 settle / 1 cancel,,,,14000,51900,40100,92000`,
        '',
      ].join('\n'),
    );
  });

  it('rerun writes the same bytes', async () => {
    const file = path.join(sys.config.reportsDir, `medical-claims-${date}.csv`);
    const before = await readFile(file);
    await runJob(sys, 'medical-claims', date, true);
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});
