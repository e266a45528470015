// Terminal reconciliation on a generated day (issue: nightly jobs): reported batch totals against
// the ledger per terminal, and the injected missing, extra and wrong-amount transactions named by
// their op_id; matched terminals, terminals without totals and unknown terminals told apart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { busValidator, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { fare, pay, refund, removeReports, runJob } from './jobs-support.js';

const date = '2024-06-01';
const clock = fixedClock(new Date(`${date}T02:00:00Z`));
let sys: TestSystem;
let pos: RegisteredTerminal;
let v1: RegisteredTerminal;
let v2: RegisteredTerminal;
let v3: RegisteredTerminal;
let v4: RegisteredTerminal;

async function totals(terminalId: string, source: 'iso0500' | 'validator', t: { dc: number; da: number; cc?: number; ca?: number }, batchNo = ''): Promise<void> {
  await sys.pool.query(
    `INSERT INTO terminal_totals (terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [terminalId, date, batchNo, t.dc, t.da, t.cc ?? 0, t.ca ?? 0, source],
  );
}

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  pos = await retailPos(sys.http, 'M0000000000001');
  v1 = await busValidator(sys.http);
  v2 = await busValidator(sys.http);
  v3 = await busValidator(sys.http);
  v4 = await busValidator(sys.http);
  const { cardNo } = await issueCard(sys.http, { balance: 100_000 });

  // POS (ISO batches): 3 payments 1000 + 2000 + 3000, a refund of 500, and a payment of 700
  // reversed the same day (in neither total, as the terminal takes it out of its batch).
  await pay(sys, pos, cardNo, 1000);
  const p2 = await pay(sys, pos, cardNo, 2000);
  await pay(sys, pos, cardNo, 3000);
  await refund(sys, pos, p2, 500);
  const reversed = await pay(sys, pos, cardNo, 700);
  const rev = await sys.http.inject({ method: 'POST', url: `/v1/payments/${reversed}/reverse`, headers: pos.headers, payload: {} });
  expect(rev.json().approved, rev.body).toBe(true);
  await totals(pos.terminalId, 'iso0500', { dc: 2, da: 3000 }, '1');
  await totals(pos.terminalId, 'iso0500', { dc: 1, da: 3000, cc: 1, ca: 500 }, '2');

  // V1 agrees with the ledger.
  for (const [i, amount] of [200, 200, 300].entries()) await fare(sys, { cardNo, operatorId: 'ZZBUS', amount, businessDate: date, terminalId: v1.terminalId, tapId: `v1-${i}` });
  await totals(v1.terminalId, 'validator', { dc: 3, da: 700 });

  // V2: the ledger has a 200, b 300, c 400. The validator says a 200, b 250 (wrong amount),
  // d 500 (missing from the ledger) and leaves out c (extra in the ledger).
  for (const [tapId, amount] of [['v2-a', 200], ['v2-b', 300], ['v2-c', 400]] as const) {
    await fare(sys, { cardNo, operatorId: 'ZZBUS', amount, businessDate: date, terminalId: v2.terminalId, tapId });
  }
  await totals(v2.terminalId, 'validator', { dc: 3, da: 950 });
  for (const [reference, amount] of [['v2-a', 200], ['v2-b', 250], ['v2-d', 500]] as const) {
    await sys.pool.query(`INSERT INTO terminal_reported_txns (terminal_id, business_date, reference, amount) VALUES ($1, $2, $3, $4)`, [v2.terminalId, date, reference, amount]);
  }

  // V3 reports two fares, the ledger has one; no list, so nothing can be named.
  await fare(sys, { cardNo, operatorId: 'ZZBUS', amount: 200, businessDate: date, terminalId: v3.terminalId });
  await totals(v3.terminalId, 'validator', { dc: 2, da: 400 });

  // V4 has fares and reported nothing; a terminal nobody registered reports totals.
  await fare(sys, { cardNo, operatorId: 'ZZBUS', amount: 200, businessDate: date, terminalId: v4.terminalId });
  await totals('ZZZZ9999', 'validator', { dc: 1, da: 100 });
  // Another day's fare at V1 is not part of this one.
  await fare(sys, { cardNo, operatorId: 'ZZBUS', amount: 900, businessDate: '2024-05-31', terminalId: v1.terminalId });
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

describe('reconcile-terminals', () => {
  it('names the missing, extra and wrong-amount transactions of the terminal that differs', async () => {
    const run = await runJob(sys, 'reconcile-terminals', date);
    expect(run.state, run.error ?? '').toBe('completed');
    const r = run.result as Record<string, unknown> & { mismatches: Record<string, unknown>[] };
    expect(r).toMatchObject({ terminals: 6, matched: 2, mismatched: 3, withoutTotals: 1, unknownTerminals: 1, terminalsWithoutTotals: [v4.terminalId] });
    const byId = new Map(r.mismatches.map((m) => [m.terminalId as string, m]));
    expect([...byId.keys()].sort()).toEqual([v2.terminalId, v3.terminalId, 'ZZZZ9999'].sort());
    expect(byId.get(v2.terminalId)).toEqual({
      terminalId: v2.terminalId,
      code: '95',
      known: true,
      batches: 1,
      reported: { debitCount: 3, debitFen: 950, creditCount: 0, creditFen: 0 },
      ledger: { debitCount: 3, debitFen: 900, creditCount: 0, creditFen: 0 },
      totalsMatch: false,
      hasList: true,
      counts: { missing: 1, extra: 1, wrongAmount: 1 },
      missing: [{ reference: 'v2-d', reportedFen: 500 }],
      extra: [{ reference: 'v2-c', ledgerFen: 400 }],
      wrongAmount: [{ reference: 'v2-b', reportedFen: 250, ledgerFen: 300 }],
    });
    expect(byId.get(v3.terminalId)).toMatchObject({
      reported: { debitCount: 2, debitFen: 400 },
      ledger: { debitCount: 1, debitFen: 200 },
      hasList: false,
      counts: { missing: 0, extra: 0, wrongAmount: 0 },
    });
    expect(byId.get('ZZZZ9999')).toMatchObject({ known: false, ledger: { debitCount: 0, debitFen: 0 } });
    expect(byId.has(pos.terminalId)).toBe(false);
    expect(byId.has(v1.terminalId)).toBe(false);

    const file = JSON.parse(await readFile(path.join(sys.config.reportsDir, `reconcile-terminals-${date}.json`), 'utf8'));
    expect(file.summary).toMatchObject({ terminals: 6, matched: 2, mismatched: 3 });
    expect(file.mismatches.map((m: { terminalId: string }) => m.terminalId)).toEqual([v2.terminalId, v3.terminalId, 'ZZZZ9999'].sort());
  });

  it('matches once the terminal corrects its upload, and a rerun writes the same file again', async () => {
    await sys.pool.query(`UPDATE terminal_totals SET debit_amount = 900 WHERE terminal_id = $1`, [v2.terminalId]);
    await sys.pool.query(`DELETE FROM terminal_reported_txns WHERE terminal_id = $1 AND reference = 'v2-d'`, [v2.terminalId]);
    await sys.pool.query(`UPDATE terminal_reported_txns SET amount = 300 WHERE terminal_id = $1 AND reference = 'v2-b'`, [v2.terminalId]);
    await sys.pool.query(`INSERT INTO terminal_reported_txns (terminal_id, business_date, reference, amount) VALUES ($1, $2, 'v2-c', 400)`, [v2.terminalId, date]);
    const run = await runJob(sys, 'reconcile-terminals', date, true);
    expect(run.result).toMatchObject({ matched: 3, mismatched: 2 });
    const first = await readFile(path.join(sys.config.reportsDir, `reconcile-terminals-${date}.json`));
    await runJob(sys, 'reconcile-terminals', date, true);
    expect((await readFile(path.join(sys.config.reportsDir, `reconcile-terminals-${date}.json`))).equals(first)).toBe(true);
  });
});
