// The 04:00 cut-over (DESIGN §2, §7): a metro ride that taps in before 04:00 and out after it is
// one journey of the business day it started in. By hand: L1-08→L2-05 via ZJS is 6.5 km = 300.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { at, gate, paidFen, tap, trialBalanced } from './transit-helpers.js';
import { removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2026-03-02T00:00:00Z'));
let sys: TestSystem;
const gates: Record<string, RegisteredTerminal> = {};

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  for (const s of ['L1-08', 'L2-05', 'L1-01']) gates[s] = await gate(sys.http, s);
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

const shanghai = (text: string): Date => new Date(text);

async function journeysOf(cardNo: string): Promise<{ business_date: string; status: string; fare: number }[]> {
  const r = await sys.pool.query(`SELECT business_date::text, status, fare::int FROM journeys WHERE card_no = $1 ORDER BY entry_at NULLS LAST`, [cardNo]);
  return r.rows;
}

describe('a metro ride across 04:00', () => {
  it('taps in at 03:50 and out at 04:20: one journey of the previous business day, 300', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    clock.set(shanghai('2026-03-03T03:50:00+08:00'));
    const tapIn = await tap(sys.http, gates['L1-08']!, cardNo, at('03:50', '2026-03-03'), { direction: 'in' });
    expect(tapIn).toMatchObject({ approved: true, fare: 0 });
    clock.set(shanghai('2026-03-03T04:20:00+08:00'));
    const tapOut = await tap(sys.http, gates['L2-05']!, cardNo, at('04:20', '2026-03-03'), { direction: 'out' });
    // Before: the tap-out opened the new day (no tap-in: maximum from L2-05) and the tap-in was closed on its own: 400 + 500.
    expect(tapOut).toMatchObject({ approved: true, fare: 300, journeyId: tapIn.journeyId });
    expect(await paidFen(sys.pool, cardNo)).toBe(300);
    const rows = await sys.pool.query(`SELECT kind, business_date::text FROM taps WHERE card_no = $1 ORDER BY tapped_at`, [cardNo]);
    expect(rows.rows).toEqual([
      { kind: 'metro-in', business_date: '2026-03-02' },
      { kind: 'metro-out', business_date: '2026-03-02' },
    ]);
    // The next ride of the morning is the new day's; the night's close-journeys finds nothing open.
    clock.set(shanghai('2026-03-03T08:00:00+08:00'));
    await tap(sys.http, gates['L1-01']!, cardNo, at('08:00', '2026-03-03'), { direction: 'in' });
    const closed = await runJob(sys, 'close-journeys', '2026-03-02');
    expect(closed.result).toMatchObject({ journeysClosed: 0, closedFen: 0 });
    expect(await paidFen(sys.pool, cardNo)).toBe(300);
    expect(await journeysOf(cardNo)).toEqual([{ business_date: '2026-03-02', status: 'complete', fare: 300 }]);
  });

  it('taps out at 04:20 after close-journeys (04:10) charged the journey the maximum: 300 in all', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    clock.set(shanghai('2026-03-05T03:50:00+08:00'));
    await tap(sys.http, gates['L1-08']!, cardNo, at('03:50', '2026-03-05'), { direction: 'in' });
    clock.set(shanghai('2026-03-05T04:10:00+08:00'));
    const closed = await runJob(sys, 'close-journeys', '2026-03-04');
    expect(closed.result).toMatchObject({ journeysClosed: 1 });
    const max = closed.result!.closedFen as number;
    expect(await paidFen(sys.pool, cardNo)).toBe(max);
    clock.set(shanghai('2026-03-05T04:20:00+08:00'));
    const tapOut = await tap(sys.http, gates['L2-05']!, cardNo, at('04:20', '2026-03-05'), { direction: 'out' });
    expect(tapOut).toMatchObject({ approved: true, fare: 300 });
    expect(await paidFen(sys.pool, cardNo)).toBe(300);
    expect(await journeysOf(cardNo)).toEqual([{ business_date: '2026-03-04', status: 'complete', fare: 300 }]);
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it('a tap-out long after 04:00 is not part of last night’s journey', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    clock.set(shanghai('2026-03-07T03:30:00+08:00'));
    await tap(sys.http, gates['L1-08']!, cardNo, at('03:30', '2026-03-07'), { direction: 'in' });
    clock.set(shanghai('2026-03-07T07:30:00+08:00'));
    const tapOut = await tap(sys.http, gates['L2-05']!, cardNo, at('07:30', '2026-03-07'), { direction: 'out' });
    // No tap-in on the 7th: the maximum from L2-05; the 03:30 tap-in is closed on the 6th.
    expect(tapOut.approved).toBe(true);
    expect(tapOut.fare).toBeGreaterThan(300);
    const rows = await sys.pool.query(`SELECT kind, business_date::text FROM taps WHERE card_no = $1 ORDER BY tapped_at`, [cardNo]);
    expect(rows.rows.map((r) => r.business_date)).toEqual(['2026-03-06', '2026-03-07']);
  });
});
