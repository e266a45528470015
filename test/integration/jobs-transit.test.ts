// The transit jobs on generated days (issue: nightly jobs): close-journeys charges a journey left
// open once (through the transit area), and ridership publishes boardings per route, station and
// hour and the origin–destination matrix with no cell under 5 riders, the suppressed cells marked
// and summed so that the matrix adds up to the completed journeys.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, metroGate, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { removeReports, runJob } from './jobs-support.js';

// 08:00 in Shanghai on 2026-10-01 (taps before the first fare policy, 2026-01-01, are refused).
const clock = fixedClock(new Date('2026-10-01T00:00:00Z'));
let sys: TestSystem;
let gate: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  gate = await metroGate(sys.http, 'L1-01');
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

const purse = async (cardNo: string) => Number((await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo])).rows[0]?.balance ?? 0);

describe('close-journeys', () => {
  it('charges a journey left open the maximum fare from its entry station, once', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const tapIn = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: gate.headers, payload: { tapId: 'open-1', cardNo, tappedAt: '2026-10-01T08:00:00+08:00', direction: 'in' } });
    expect(tapIn.json(), tapIn.body).toMatchObject({ approved: true, fare: 0 });
    const before = await purse(cardNo);

    const run = await runJob(sys, 'close-journeys', '2026-09-30');
    expect(run.state, run.error ?? '').toBe('completed');
    expect(run.result).toMatchObject({ journeysClosed: 0, closedFen: 0 });

    clock.set(new Date('2026-10-01T21:00:00Z')); // 05:00 the next morning
    const closed = await runJob(sys, 'close-journeys', '2026-10-01');
    expect(closed.state, closed.error ?? '').toBe('completed');
    const charged = closed.result!.closedFen as number;
    expect(closed.result).toMatchObject({ metroCards: 1, journeysClosed: 1 });
    expect(charged).toBeGreaterThanOrEqual(200);
    expect(await purse(cardNo)).toBe(before - charged);
    const journeys = await sys.pool.query(`SELECT status, entry_station_id, fare::int FROM journeys WHERE card_no = $1 AND business_date = '2026-10-01'`, [cardNo]);
    expect(journeys.rows).toEqual([{ status: 'incomplete', entry_station_id: 'L1-01', fare: charged }]);

    const again = await runJob(sys, 'close-journeys', '2026-10-01', true);
    expect(again.result).toMatchObject({ journeysClosed: 0, closedFen: 0 });
    expect(await purse(cardNo)).toBe(before - charged);
  });
});

describe('ridership', () => {
  const date = '2024-10-02';
  let tapSeq = 0;
  let cardSeq = 0;
  const card = () => `6200${String(++cardSeq).padStart(12, '0')}`;

  async function tap(kind: 'bus' | 'metro-in' | 'metro-out' | 'taxi', where: string, at: string, cardNo: string, status = 'accepted'): Promise<void> {
    const mode = kind === 'bus' ? 'bus' : kind === 'taxi' ? 'taxi' : 'metro';
    await sys.pool.query(
      `INSERT INTO taps (tap_id, card_no, terminal_id, operator_id, mode, kind, route_id, station_id, tapped_at, business_date, fare, status, code, request_hash)
       VALUES ($1, $2, 'T0000001', 'ZZBUS', $3, $4, $5, $6, $7, $8, 0, $9, '00', 'h')`,
      [`r-${++tapSeq}`, cardNo, mode, kind, kind === 'bus' ? where : null, kind.startsWith('metro') ? where : null, at, date, status],
    );
  }

  async function journey(origin: string, destination: string, cardNo: string, status = 'complete'): Promise<void> {
    await sys.pool.query(
      `INSERT INTO journeys (journey_id, card_no, business_date, entry_station_id, exit_station_id, status) VALUES ($1, $2, $3, $4, $5, $6)`,
      [`j-${++tapSeq}`, cardNo, date, origin, destination, status],
    );
  }

  beforeAll(async () => {
    const b2at08 = Array.from({ length: 6 }, card);
    for (const c of b2at08) await tap('bus', 'B2', '2024-10-02T08:10:00+08:00', c);
    await tap('bus', 'B2', '2024-10-02T08:50:00+08:00', b2at08[0]!); // 7 boardings, 6 riders
    for (let i = 0; i < 3; i++) await tap('bus', 'B2', '2024-10-02T09:05:00+08:00', card()); // 3 riders: suppressed
    for (let i = 0; i < 5; i++) await tap('bus', 'B906', '2024-10-02T08:30:00+08:00', card()); // 5 riders
    await tap('bus', 'B906', '2024-10-03T02:30:00+08:00', card()); // 02:30 the next night, same business day: 1 rider
    for (let i = 0; i < 10; i++) await tap('metro-in', 'L1-01', '2024-10-02T08:20:00+08:00', card());
    for (let i = 0; i < 6; i++) await tap('metro-in', 'L1-01', '2024-10-02T17:40:00+08:00', card());
    // Not boardings: a rejected tap, tap-outs, a taxi ride, another day.
    await tap('bus', 'B2', '2024-10-02T08:15:00+08:00', card(), 'rejected');
    await tap('metro-out', 'L1-05', '2024-10-02T08:40:00+08:00', card());
    await tap('taxi', '', '2024-10-02T08:40:00+08:00', card());
    await sys.pool.query(`UPDATE taps SET business_date = '2026-10-01' WHERE tap_id = $1`, [`r-${tapSeq}`]);

    for (let i = 0; i < 6; i++) await journey('L1-01', 'L1-05', card());
    const twice = card();
    await journey('L1-01', 'ZJS', twice);
    await journey('L1-01', 'ZJS', twice);
    for (let i = 0; i < 3; i++) await journey('L1-01', 'ZJS', card()); // 5 journeys, 4 riders: suppressed
    for (let i = 0; i < 8; i++) await journey('L1-05', 'L1-01', card());
    for (let i = 0; i < 5; i++) await journey('L2-01', 'L1-05', card()); // 5 riders: suppressed as well (second cell)
    await journey('L1-01', '', card(), 'open');
    await journey('L1-01', '', card(), 'incomplete');
  });

  it('publishes no cell under 5 riders, marks the suppressed ones, and the OD matrix adds up to the completed journeys', async () => {
    const run = await runJob(sys, 'ridership', date);
    expect(run.state, run.error ?? '').toBe('completed');
    // Boardings: primary suppression B2@09 (3 riders) and B906@02 (1 rider) leaves a suppressed sum
    // of 4 riders, so the smallest published cell, B906@08 (5), is suppressed too: 3 + 1 + 5 = 9.
    expect(run.result).toMatchObject({
      ridersMin: 5,
      boardings: { total: 32, published: 23, suppressed: 9, cells: 6, suppressedCells: 3 },
      // OD: L1-01→ZJS has 4 riders; a single suppressed cell could be worked out from the total,
      // so the smallest other one, L2-01→L1-05 (5), goes with it: 5 + 5 = 10 of 24.
      od: { completedJourneys: 24, published: 14, suppressed: 10, cells: 4, suppressedCells: 2 },
    });
    const dir = sys.config.reportsDir;
    expect(await readFile(path.join(dir, `ridership-boardings-${date}.csv`), 'utf8')).toBe(
      [
        'business_date,mode,route_id,station_id,hour,boardings,riders,suppressed',
        `${date},bus,B2,,08,7,6,`,
        `${date},bus,B2,,09,,,yes`,
        `${date},bus,B906,,08,,,yes`,
        `${date},bus,B906,,02,,,yes`,
        `${date},metro,,L1-01,08,10,10,`,
        `${date},metro,,L1-01,17,6,6,`,
        `${date},SUPPRESSED,3 cells,,,9,,yes`,
        `${date},TOTAL,published + suppressed,,,32,,`,
        '',
      ].join('\n'),
    );
    const od = await readFile(path.join(dir, `ridership-od-${date}.csv`), 'utf8');
    expect(od).toBe(
      [
        'business_date,origin_station_id,destination_station_id,journeys,riders,suppressed',
        `${date},L1-01,L1-05,6,6,`,
        `${date},L1-01,ZJS,,,yes`,
        `${date},L1-05,L1-01,8,8,`,
        `${date},L2-01,L1-05,,,yes`,
        `${date},SUPPRESSED,2 cells,10,,yes`,
        `${date},TOTAL,completed journeys,24,,`,
        '',
      ].join('\n'),
    );
    // Read back as a consumer would: published cells all have ≥ 5 riders, and cells + suppressed = total.
    const rows = od.trim().split('\n').slice(1).map((l) => l.split(','));
    const cells = rows.filter((r) => r[1] !== 'SUPPRESSED' && r[1] !== 'TOTAL');
    for (const r of cells.filter((r) => r[5] !== 'yes')) expect(Number(r[4])).toBeGreaterThanOrEqual(5);
    const published = cells.filter((r) => r[5] !== 'yes').reduce((s, r) => s + Number(r[3]), 0);
    const suppressed = Number(rows.find((r) => r[1] === 'SUPPRESSED')![3]);
    expect(published + suppressed).toBe(Number(rows.find((r) => r[1] === 'TOTAL')![3]));
    const completed = await sys.pool.query(`SELECT count(*)::int AS n FROM journeys WHERE business_date = $1 AND status = 'complete'`, [date]);
    expect(published + suppressed).toBe(completed.rows[0].n);
  });
});
