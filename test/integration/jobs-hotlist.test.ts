// The hotlist job on generated days (issue: nightly jobs): cards in debt listed for 'debt', cleared
// when back at zero or above, lost and blocked cards kept for their own reason; the versioned file
// with the delta since the previous day's file; a rerun changes nothing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { fare, nextId, removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2024-07-01T02:00:00Z'));
let sys: TestSystem;
let c1: string;
let c2: string;
let c3: string;
let c4: string;
let c5: string;

const setStatus = async (cardNo: string, status: string) => {
  const res = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status } });
  expect(res.statusCode, res.body).toBe(200);
};
const hotlistFile = async (date: string) => JSON.parse(await readFile(path.join(sys.config.reportsDir, `hotlist-${date}.json`), 'utf8'));

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  ({ cardNo: c1 } = await issueCard(sys.http));
  ({ cardNo: c2 } = await issueCard(sys.http, { balance: 1000 }));
  ({ cardNo: c3 } = await issueCard(sys.http));
  ({ cardNo: c4 } = await issueCard(sys.http));
  ({ cardNo: c5 } = await issueCard(sys.http, { balance: 1000 }));
  // Offline fares overdraw c1 and c4; c2 is lost; c3 is lost, then in debt; c5 stays fine.
  await fare(sys, { cardNo: c1, operatorId: 'ZZBUS', amount: 500, businessDate: '2024-07-01' });
  await fare(sys, { cardNo: c4, operatorId: 'ZZBUS', amount: 100, businessDate: '2024-07-01' });
  await setStatus(c2, 'lost');
  await setStatus(c3, 'lost');
  await fare(sys, { cardNo: c3, operatorId: 'ZZBUS', amount: 300, businessDate: '2024-07-01' });
  await fare(sys, { cardNo: c5, operatorId: 'ZZBUS', amount: 300, businessDate: '2024-07-01' });
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

describe('hotlist', () => {
  let v1: number;

  it('lists the cards in debt, keeps lost cards for their reason, and writes the list at its version', async () => {
    const run = await runJob(sys, 'hotlist', '2024-07-01');
    expect(run.state, run.error ?? '').toBe('completed');
    expect(run.result).toMatchObject({ listedForDebt: 2, clearedOfDebt: 0, listed: 4, byReason: { debt: 2, lost: 2 }, previousVersion: null, deltaChanges: 4 });
    v1 = run.result!.version as number;
    const file = await hotlistFile('2024-07-01');
    expect(file.version).toBe(v1);
    expect(file.previousVersion).toBeNull();
    const listed = new Map(file.listed.map((e: { cardNo: string; reason: string }) => [e.cardNo, e.reason]));
    expect(Object.fromEntries(listed)).toEqual({ [c1]: 'debt', [c2]: 'lost', [c3]: 'lost', [c4]: 'debt' });
    expect(file.listed.map((e: { cardNo: string }) => e.cardNo)).toEqual([c1, c2, c3, c4].sort());
    expect(file.delta.since).toBe(0);
    expect(file.delta.changes).toHaveLength(4);
    // The change log now says so, once per card.
    const r = await sys.pool.query(`SELECT card_no, reason FROM hotlist_changes WHERE reason = 'debt' ORDER BY card_no`);
    expect(r.rows).toEqual([c1, c4].sort().map((card_no) => ({ card_no, reason: 'debt' })));
  });

  it('clears a card back above zero and gives validators the delta since the previous file', async () => {
    clock.set(new Date('2024-07-02T02:00:00Z'));
    // A correction credited straight in the ledger (not a top-up, whose own path may clear the
    // listing at once): only the nightly job brings the card off the list.
    const credit = await sys.ledger.submit({
      opKind: 'adjustment',
      opId: nextId('adj'),
      requestHash: 'h',
      cardNo: c4,
      businessDate: '2024-07-02',
      legs: [{ debit: { kind: 'suspense', ownerId: '' }, credit: { kind: 'purse', ownerId: c4 }, amountFen: 200n }],
    });
    expect(credit.status).toBe('committed');
    await sys.gate.forget(c4);
    await setStatus(c2, 'active');
    const run = await runJob(sys, 'hotlist', '2024-07-02');
    expect(run.result).toMatchObject({ listedForDebt: 0, clearedOfDebt: 1, listed: 2, previousVersion: v1, deltaChanges: 2 });
    const file = await hotlistFile('2024-07-02');
    expect(file.listed.map((e: { cardNo: string; reason: string }) => [e.cardNo, e.reason])).toEqual([[c1, 'debt'], [c3, 'lost']].sort());
    expect(file.delta.since).toBe(v1);
    const delta = Object.fromEntries(file.delta.changes.map((e: { cardNo: string; listed: boolean; reason: string }) => [e.cardNo, [e.listed, e.reason]]));
    expect(delta).toEqual({ [c2]: [false, 'cleared'], [c4]: [false, 'cleared'] });
  });

  it('changes nothing when rerun: same file, no new changes', async () => {
    const before = await readFile(path.join(sys.config.reportsDir, 'hotlist-2024-07-02.json'));
    const changes = (await sys.pool.query(`SELECT count(*)::int AS n FROM hotlist_changes`)).rows[0].n;
    const run = await runJob(sys, 'hotlist', '2024-07-02', true);
    expect(run.result).toMatchObject({ listedForDebt: 0, clearedOfDebt: 0, listed: 2 });
    expect((await readFile(path.join(sys.config.reportsDir, 'hotlist-2024-07-02.json'))).equals(before)).toBe(true);
    expect((await sys.pool.query(`SELECT count(*)::int AS n FROM hotlist_changes`)).rows[0].n).toBe(changes);
  });
});
