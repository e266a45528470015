// Late taps after the day is closed (DESIGN §7: late taps re-rate the journey they belong to): a
// tap-out uploaded after close-journeys charged its journey the maximum re-rates that journey, a
// late tap-in with no tap-out is charged the maximum now, and the correction is settled to the
// operator by the next clearing without a rerun of any job. Fares by hand from demo-network.json:
// L1-01→L1-03 2.6 km = 200; the maximum from L1-01 (to L2-16, 20.8 km) = 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { at, gate, paidFen, tap, tapId, trialBalanced, upload } from './transit-helpers.js';
import { removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2026-03-02T00:00:00Z'));
let sys: TestSystem;
const gates: Record<string, RegisteredTerminal> = {};

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  for (const s of ['L1-01', 'L1-03']) gates[s] = await gate(sys.http, s);
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

/** The operator's receivable postings of a business date (credits − debits, clearing included). */
async function receivableLeft(operatorId: string, businessDate: string): Promise<number> {
  const r = await sys.pool.query<{ left: string }>(
    `SELECT (coalesce(sum(t.amount) FILTER (WHERE t.credit_account_id = a.account_id), 0) - coalesce(sum(t.amount) FILTER (WHERE t.debit_account_id = a.account_id), 0))::text AS left
       FROM accounts a JOIN transfers t ON (t.credit_account_id = a.account_id OR t.debit_account_id = a.account_id) AND t.business_date = $2
      WHERE a.kind = 'receivable' AND a.owner_id = $1`,
    [operatorId, businessDate],
  );
  return Number(r.rows[0]!.left);
}

async function settledNet(operatorId: string): Promise<number> {
  const r = await sys.pool.query<{ n: string }>(
    `SELECT coalesce(sum(t.amount), 0)::text AS n FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id
      WHERE t.op_kind = 'clearing' AND ((d.kind = 'receivable' AND d.owner_id = $1 AND c.kind IN ('settlement', 'fees')))`,
    [operatorId],
  );
  const back = await sys.pool.query<{ n: string }>(
    `SELECT coalesce(sum(t.amount), 0)::text AS n FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id
      WHERE t.op_kind = 'clearing' AND c.kind = 'receivable' AND c.owner_id = $1 AND d.kind IN ('settlement', 'fees')`,
    [operatorId],
  );
  return Number(r.rows[0]!.n) - Number(back.rows[0]!.n);
}

describe('a tap-out uploaded after close-journeys', () => {
  it('re-rates the journey the job charged the maximum: the card pays 200 in all, and the next clearing settles the correction', async () => {
    const d = '2026-03-02';
    clock.set(new Date(`${d}T00:00:00Z`)); // 08:00 Shanghai
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const tapIn = await tap(sys.http, gates['L1-01']!, cardNo, at('08:00', d), { direction: 'in' });
    expect(tapIn).toMatchObject({ approved: true, fare: 0 });

    clock.set(new Date(`${d}T21:00:00Z`)); // 05:00 the next morning
    const closed = await runJob(sys, 'close-journeys', d);
    expect(closed.result).toMatchObject({ journeysClosed: 1, closedFen: 500 });
    expect(await paidFen(sys.pool, cardNo)).toBe(500);
    const cleared = await runJob(sys, 'clearing', d);
    expect(cleared.state, cleared.error ?? '').toBe('completed');
    expect(await receivableLeft('ZZMETRO', d)).toBe(0);

    // The exit gate was offline; it uploads the tap-out later that morning.
    clock.set(new Date(`${d}T23:00:00Z`)); // 07:00 on the 3rd
    const res = await upload(sys.http, gates['L1-03']!, [{ tapId: tapId('late-out'), cardNo, tappedAt: at('08:30', d), direction: 'out' }]);
    expect(res.json().results[0], res.body).toMatchObject({ status: 'accepted', code: '00', fare: 200 });
    // Before the fix: 500 (closed) + 500 (a tap-out without tap-in from L1-03, 18.2 km) = 1000 for a 200 ride.
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
    const adjust = await sys.pool.query(`SELECT detail FROM transfers WHERE card_no = $1 AND op_kind = 'fare-adjust'`, [cardNo]);
    expect(adjust.rows).toHaveLength(1);
    expect((adjust.rows[0].detail.explanation as string[])[0]).toContain('refunded 500');
    const journeys = await sys.pool.query(`SELECT status, fare::int FROM journeys WHERE card_no = $1`, [cardNo]);
    expect(journeys.rows).toEqual([{ status: 'complete', fare: 200 }]);

    // The 2nd's clearing, on its usual schedule, settles what the late tap changed on the 2nd.
    expect(await receivableLeft('ZZMETRO', d)).toBe(-300);
    const next = await runJob(sys, 'clearing', '2026-03-03');
    expect(next.state, next.error ?? '').toBe('completed');
    expect(next.result!.late).toMatchObject({ parties: 1, grossFen: -300 });
    expect(await receivableLeft('ZZMETRO', d)).toBe(0);
    // Settled for the day: 500 (gross) − 300 (catch-up) = the ride's 200, commission included.
    expect(await settledNet('ZZMETRO')).toBe(200);
    // A rerun of the next clearing settles nothing again.
    const rerun = await runJob(sys, 'clearing', '2026-03-03', true);
    expect(rerun.result!.thisRun).toMatchObject({ committed: 0 });
    expect(await settledNet('ZZMETRO')).toBe(200);
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});

describe('a tap-in uploaded after its day was closed', () => {
  it('is charged the maximum fare now (500 from L1-01), once, without a rerun of close-journeys', async () => {
    const d = '2026-03-04';
    clock.set(new Date(`${d}T21:00:00Z`)); // 05:00 on the 5th
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    expect((await runJob(sys, 'close-journeys', d)).state).toBe('completed');
    expect((await runJob(sys, 'clearing', d)).state).toBe('completed');

    const late = { tapId: tapId('late-in'), cardNo, tappedAt: at('18:00', d), direction: 'in' as const };
    const res = await upload(sys.http, gates['L1-01']!, [late]);
    expect(res.json().results[0], res.body).toMatchObject({ status: 'accepted', code: '00', fare: 0 });
    // Before the fix: 0, charged only if the card tapped again some later day.
    expect(await paidFen(sys.pool, cardNo)).toBe(500);
    const close = await sys.pool.query(`SELECT op_id, detail FROM transfers WHERE card_no = $1 AND op_kind = 'journey-close'`, [cardNo]);
    expect(close.rows).toHaveLength(1);
    expect(close.rows[0].detail.explanation.join(' ')).toContain('maximum from L1-01');
    const journeys = await sys.pool.query(`SELECT status, fare::int FROM journeys WHERE card_no = $1`, [cardNo]);
    expect(journeys.rows).toEqual([{ status: 'incomplete', fare: 500 }]);

    // The same upload again charges nothing more.
    const again = await upload(sys.http, gates['L1-01']!, [late]);
    expect(again.json().results[0]).toMatchObject({ status: 'duplicate' });
    expect(await paidFen(sys.pool, cardNo)).toBe(500);

    const before = await settledNet('ZZMETRO');
    const next = await runJob(sys, 'clearing', '2026-03-05');
    expect(next.result!.late).toMatchObject({ parties: 1, grossFen: 500 });
    expect(await receivableLeft('ZZMETRO', d)).toBe(0);
    expect(await settledNet('ZZMETRO')).toBe(before + 500);
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});
