// Clearing on generated business days with hand-computed expectations (issue: nightly jobs):
// per operator and merchant count, gross, commission (half-even to fen) and net; the settlement
// CSV; the ledger transfers to settlement and fees, once per party and date, also across a rerun,
// a crash halfway, and a worker stopped mid-run.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, medicalPos, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { fare, pay, refund, removeReports, runJob, waitForRun } from './jobs-support.js';

// 10:00 in Shanghai on 1 May 2024: business date 2024-05-01.
const clock = fixedClock(new Date('2024-05-01T02:00:00Z'));
const atDate = (date: string) => clock.set(new Date(`${date}T02:00:00Z`));
let sys: TestSystem;
let pos1: RegisteredTerminal;
let pos2: RegisteredTerminal;
let hospital: RegisteredTerminal;
let cardA: string;
let cardB: string;
let earlierPayment: string;

const header = 'business_date,party_type,party_id,account,postings,credits_fen,debits_fen,gross_fen,commission_rate,commission_fen,net_fen';

async function balance(kind: string, owner = ''): Promise<number> {
  const r = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = $1 AND owner_id = $2`, [kind, owner]);
  return Number(r.rows[0]?.balance ?? 0);
}

async function clearingLegs(date: string): Promise<{ op_id: string; leg: number; amount: string; debit: string; credit: string }[]> {
  const r = await sys.pool.query(
    `SELECT t.op_id, t.leg, t.amount::text, d.kind || ':' || d.owner_id AS debit, c.kind || ':' || c.owner_id AS credit
       FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id
      WHERE t.op_kind = 'clearing' AND t.op_id LIKE $1 ORDER BY t.op_id, t.leg`,
    [`${date}:%`],
  );
  return r.rows;
}

const csvOf = (date: string) => readFile(path.join(sys.config.reportsDir, `clearing-${date}.csv`), 'utf8');

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  pos1 = await retailPos(sys.http, 'M0000000000001');
  pos2 = await retailPos(sys.http, 'M0000000000002');
  hospital = await medicalPos(sys.http, 'M0000000000101');
  atDate('2024-04-30');
  ({ cardNo: cardA } = await issueCard(sys.http, { balance: 100_000 }));
  ({ cardNo: cardB } = await issueCard(sys.http, { balance: 100_000 }));
  // The day before: not part of 2024-05-01.
  earlierPayment = await pay(sys, pos1, cardA, 777);
  await fare(sys, { cardNo: cardA, operatorId: 'ZZBUS', amount: 999, businessDate: '2024-04-30' });

  atDate('2024-05-01');
  for (const amount of [200, 200, 200, 200, 200, 300]) await fare(sys, { cardNo: cardA, operatorId: 'ZZBUS', amount, businessDate: '2024-05-01' });
  for (const amount of [400, 500, 600]) await fare(sys, { cardNo: cardB, operatorId: 'ZZMETRO', amount, businessDate: '2024-05-01' });
  await fare(sys, { cardNo: cardB, operatorId: 'ZZTAXI', amount: 2345, businessDate: '2024-05-01' });
  const big = await pay(sys, pos1, cardA, 12_345);
  await pay(sys, pos1, cardB, 6_789);
  await pay(sys, pos1, cardB, 50);
  await refund(sys, pos1, big, 1_000);
  await pay(sys, pos2, cardA, 250);
  await pay(sys, hospital, cardB, 5_000);
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

describe('clearing of 2024-05-01', () => {
  // Hand-computed (rates from data/demo-network.json, commission = gross × rate, half-even to fen):
  //   ZZBUS   6 fares 5×200+300 = 1300; × 0.0050 = 6.5    → 6 (half to even); net 1294
  //   ZZMETRO 400+500+600       = 1500; × 0.0050 = 7.5    → 8 (half to even); net 1492
  //   ZZTAXI  2345                    ; × 0.0100 = 23.45  → 23;              net 2322
  //   M…0001  12345+6789+50 = 19184 credits, refund 1000 debit: gross 18184; × 0.0060 = 109.104 → 109; net 18075
  //   M…0002  250                     ; × 0.0060 = 1.5    → 2 (half to even); net 248
  //   M…0101  5000 (medical merchant, rate 0)                → 0;              net 5000
  //   total: 16 postings, credits 29579, debits 1000, gross 28579, commission 148, net 28431
  // The day before (fare 999 to ZZBUS, payment 777 at M…0001) is not in it.
  const expected = [
    header,
    '2024-05-01,operator,ZZBUS,receivable,6,1300,0,1300,0.005000,6,1294',
    '2024-05-01,operator,ZZMETRO,receivable,3,1500,0,1500,0.005000,8,1492',
    '2024-05-01,operator,ZZTAXI,receivable,1,2345,0,2345,0.010000,23,2322',
    '2024-05-01,merchant,M0000000000001,payable,4,19184,1000,18184,0.006000,109,18075',
    '2024-05-01,merchant,M0000000000002,payable,1,250,0,250,0.006000,2,248',
    '2024-05-01,merchant,M0000000000101,payable,1,5000,0,5000,0.000000,0,5000',
    '2024-05-01,TOTAL,,,16,29579,1000,28579,,148,28431',
    '',
  ].join('\n');

  it('writes the settlement file and moves net to settlement and commission to fees', async () => {
    const run = await runJob(sys, 'clearing', '2024-05-01');
    expect(run.state, run.error ?? '').toBe('completed');
    expect(run.result).toMatchObject({ parties: 6, postings: 16, grossFen: 28579, commissionFen: 148, netFen: 28431, ledgerCommands: 6, thisRun: { committed: 6, alreadyPosted: 0 }, differences: [] });
    expect(await csvOf('2024-05-01')).toBe(expected);
    expect(await balance('settlement')).toBe(28431);
    expect(await balance('fees')).toBe(148);
    // What is left on the parties' accounts is the day before.
    expect(await balance('receivable', 'ZZBUS')).toBe(999);
    expect(await balance('receivable', 'ZZMETRO')).toBe(0);
    expect(await balance('payable', 'M0000000000001')).toBe(777);
    expect(await balance('payable', 'M0000000000101')).toBe(0);
    const legs = await clearingLegs('2024-05-01');
    expect(legs.filter((l) => l.op_id === '2024-05-01:merchant:M0000000000001')).toEqual([
      { op_id: '2024-05-01:merchant:M0000000000001', leg: 0, amount: '18075', debit: 'payable:M0000000000001', credit: 'settlement:' },
      { op_id: '2024-05-01:merchant:M0000000000001', leg: 1, amount: '109', debit: 'payable:M0000000000001', credit: 'fees:' },
    ]);
    // Rate 0: no commission leg.
    expect(legs.filter((l) => l.op_id === '2024-05-01:merchant:M0000000000101')).toHaveLength(1);
    expect(legs).toHaveLength(11);
  });

  it('gives a byte-identical file and no second ledger effect when rerun', async () => {
    const before = await readFile(path.join(sys.config.reportsDir, 'clearing-2024-05-01.csv'));
    const rerun = await runJob(sys, 'clearing', '2024-05-01', true);
    expect(rerun.jobId).toBe('clearing@2024-05-01@r2');
    expect(rerun.state).toBe('completed');
    expect(rerun.result).toMatchObject({ grossFen: 28579, commissionFen: 148, netFen: 28431, thisRun: { committed: 0, alreadyPosted: 6 } });
    const after = await readFile(path.join(sys.config.reportsDir, 'clearing-2024-05-01.csv'));
    expect(after.equals(before)).toBe(true);
    expect(await clearingLegs('2024-05-01')).toHaveLength(11);
    expect(await balance('settlement')).toBe(28431);
    expect(await balance('fees')).toBe(148);
    const tb = await runJob(sys, 'trial-balance', '2024-05-01');
    expect(tb.result).toMatchObject({ balanced: true, totalFen: 0, mismatched: [] });
  });

  it('clears a day whose refunds exceed its sales back from settlement and fees', async () => {
    // 2024-05-04: only a refund of 300 of the 2024-04-30 payment: gross −300; × 0.0060 = −1.8 → −2; net −298.
    atDate('2024-05-04');
    await refund(sys, pos1, earlierPayment, 300);
    const settlementBefore = await balance('settlement');
    const feesBefore = await balance('fees');
    const run = await runJob(sys, 'clearing', '2024-05-04');
    expect(run.result).toMatchObject({ parties: 1, grossFen: -300, commissionFen: -2, netFen: -298 });
    expect(await csvOf('2024-05-04')).toBe(
      [header, '2024-05-04,merchant,M0000000000001,payable,1,0,300,-300,0.006000,-2,-298', '2024-05-04,TOTAL,,,1,0,300,-300,,-2,-298', ''].join('\n'),
    );
    expect(await clearingLegs('2024-05-04')).toEqual([
      { op_id: '2024-05-04:merchant:M0000000000001', leg: 0, amount: '298', debit: 'settlement:', credit: 'payable:M0000000000001' },
      { op_id: '2024-05-04:merchant:M0000000000001', leg: 1, amount: '2', debit: 'fees:', credit: 'payable:M0000000000001' },
    ]);
    expect(await balance('settlement')).toBe(settlementBefore - 298);
    expect(await balance('fees')).toBe(feesBefore - 2);
  });

  it('writes a file with only the header and total for a day without postings', async () => {
    const run = await runJob(sys, 'clearing', '2023-01-01');
    expect(run.result).toMatchObject({ parties: 0, grossFen: 0, ledgerCommands: 0 });
    expect(await csvOf('2023-01-01')).toBe([header, '2023-01-01,TOTAL,,,0,0,0,0,,0,0', ''].join('\n'));
  });
});

describe('a clearing run that dies halfway', () => {
  // 2024-05-02: ZZBUS 1000 → 5, net 995; ZZMETRO 2000 → 10, net 1990; ZZTAXI 3000 × 0.01 → 30, net 2970;
  // M…0001 4000 × 0.006 → 24, net 3976.
  const expected02 = [
    header,
    '2024-05-02,operator,ZZBUS,receivable,1,1000,0,1000,0.005000,5,995',
    '2024-05-02,operator,ZZMETRO,receivable,1,2000,0,2000,0.005000,10,1990',
    '2024-05-02,operator,ZZTAXI,receivable,1,3000,0,3000,0.010000,30,2970',
    '2024-05-02,merchant,M0000000000001,payable,1,4000,0,4000,0.006000,24,3976',
    '2024-05-02,TOTAL,,,4,10000,0,10000,,69,9931',
    '',
  ].join('\n');

  async function day(date: string, scale: number): Promise<void> {
    atDate(date);
    await fare(sys, { cardNo: cardA, operatorId: 'ZZBUS', amount: 1000 * scale, businessDate: date });
    await fare(sys, { cardNo: cardA, operatorId: 'ZZMETRO', amount: 2000 * scale, businessDate: date });
    await fare(sys, { cardNo: cardB, operatorId: 'ZZTAXI', amount: 3000 * scale, businessDate: date });
    await pay(sys, pos1, cardB, 4000 * scale);
  }

  it('is retried after a crash with half the parties posted, and ends as one clean run', async () => {
    await day('2024-05-02', 1);
    const jobs = sys.jobs.nightly;
    jobs.options.backoffMs = 20;
    let calls = 0;
    jobs.onCheckpoint = (ctx, point) => {
      if (point === 'clearing:party' && ctx.attempt === 1 && ++calls === 3) throw new Error('killed after posting 2 of 4 parties');
    };
    try {
      const run = await runJob(sys, 'clearing', '2024-05-02', false, { retries: true });
      expect(run.state, run.error ?? '').toBe('completed');
      expect(run.attempts).toBe(2);
      expect(run.result).toMatchObject({ grossFen: 10000, commissionFen: 69, netFen: 9931, thisRun: { committed: 2, alreadyPosted: 2 } });
    } finally {
      jobs.onCheckpoint = null;
    }
    expect(calls).toBe(3);
    expect(await csvOf('2024-05-02')).toBe(expected02);
    const legs = await clearingLegs('2024-05-02');
    expect(legs).toHaveLength(8);
    expect(new Set(legs.map((l) => `${l.op_id}/${l.leg}`)).size).toBe(8);
    // A clean rerun agrees with the run that crashed.
    const rerun = await runJob(sys, 'clearing', '2024-05-02', true);
    expect(rerun.result).toMatchObject({ grossFen: 10000, commissionFen: 69, netFen: 9931, thisRun: { committed: 0, alreadyPosted: 4 } });
    expect(await csvOf('2024-05-02')).toBe(expected02);
  });

  it('is taken over by another worker when its worker stops mid-run (lock lapses)', async () => {
    await day('2024-05-03', 2);
    const jobs = sys.jobs.nightly;
    await jobs.stopWorker();
    jobs.options.lockDurationMs = 1000;
    jobs.options.stalledIntervalMs = 300;
    // The first worker checked for stalled jobs with the default interval, which BullMQ holds as a
    // key for that long; clear it so that the short interval of this test applies at once.
    await sys.redis.del(jobs.queue.keys['stalled-check']!);
    jobs.startWorker();
    let crashed = false;
    let parties = 0;
    jobs.onCheckpoint = async (_ctx, point) => {
      if (point === 'clearing:party' && !crashed && ++parties === 3) {
        crashed = true;
        // The worker goes away without finishing or failing the job: as if its process died.
        await jobs.stopWorker(true);
        throw new Error('worker gone');
      }
    };
    try {
      const res = await sys.http.inject({ method: 'POST', url: '/v1/admin/jobs/clearing', headers: { authorization: `Bearer ${sys.config.adminToken}` }, payload: { businessDate: '2024-05-03' } });
      const jobId = res.json().jobId as string;
      while (!crashed) await new Promise((r) => setTimeout(r, 10));
      jobs.startWorker();
      const run = await waitForRun(sys, 'clearing', jobId, { retries: true });
      expect(run.state, run.error ?? '').toBe('completed');
      expect(run.result).toMatchObject({ grossFen: 20000, commissionFen: 138, netFen: 19862, thisRun: { committed: 2, alreadyPosted: 2 } });
    } finally {
      jobs.onCheckpoint = null;
    }
    expect(await clearingLegs('2024-05-03')).toHaveLength(8);
    // Twice the amounts of 2024-05-02: ZZBUS 2000 → 10; ZZMETRO 4000 → 20; ZZTAXI 6000 → 60; M…0001 8000 × 0.006 → 48.
    expect(await csvOf('2024-05-03')).toBe(
      [
        header,
        '2024-05-03,operator,ZZBUS,receivable,1,2000,0,2000,0.005000,10,1990',
        '2024-05-03,operator,ZZMETRO,receivable,1,4000,0,4000,0.005000,20,3980',
        '2024-05-03,operator,ZZTAXI,receivable,1,6000,0,6000,0.010000,60,5940',
        '2024-05-03,merchant,M0000000000001,payable,1,8000,0,8000,0.006000,48,7952',
        '2024-05-03,TOTAL,,,4,20000,0,20000,,138,19862',
        '',
      ].join('\n'),
    );
  });
});
