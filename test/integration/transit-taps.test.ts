// Online taps against real PostgreSQL and Redis: fares and their explanations, metro journeys,
// anti-passback, idempotency, closing open journeys, bad input, the hotlist (DESIGN §5, §7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { fixedClock } from '../../src/platform/clock.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { at, bus, gate, ledgerCounts, paidFen, postTap, purse, tap, tapId, taxi, trialBalanced } from './transit-helpers.js';

let sys: TestSystem;
let b2: RegisteredTerminal;
let b906: RegisteredTerminal;
const gates: Record<string, RegisteredTerminal> = {};

beforeAll(async () => {
  sys = await createTestSystem({ clock: fixedClock(new Date('2026-03-07T12:00:00+08:00')) }); // after the file's tap days: taps older than the offline window (30 days) are refused
  b2 = await bus(sys.http, 'B2');
  b906 = await bus(sys.http, 'B906');
  for (const s of ['L1-01', 'L1-08', 'ZJS', 'L2-05', 'L2-15']) gates[s] = await gate(sys.http, s);
});
afterAll(async () => sys.destroy());

describe('POST /v1/taps: fares', () => {
  it('charges a bus route its flat fare, explains it, and shows the explanation in the card history', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const r = await tap(sys.http, b2, cardNo, at('08:00'));
    expect(r).toMatchObject({ approved: true, code: '00', fare: 100, balance: 900, journeyId: null });
    expect(r.explanation).toEqual(['base fare B2 100']);
    const history = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/transactions`, headers: admin });
    const item = history.json().items.find((i: { kind: string }) => i.kind === 'tap');
    expect(item).toMatchObject({ amount: -100, explanation: ['base fare B2 100'], detail: { routeId: 'B2' } });
  });

  it('gives the transfer discount and a student concession', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000, cardType: 'student' });
    expect(await tap(sys.http, b2, cardNo, at('08:00'))).toMatchObject({ fare: 50 });
    const second = await tap(sys.http, b906, cardNo, at('08:30'));
    expect(second).toMatchObject({ fare: 0, balance: 950 });
    expect(second.explanation).toEqual(['base fare B906 200', 'concession student 50% → 100', 'transfer discount -100']);
  });

  it('charges a metro journey across lines (through ZJS) at tap-out, with one journey id', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const tapIn = await tap(sys.http, gates['L1-08']!, cardNo, at('09:00'), { direction: 'in' });
    expect(tapIn).toMatchObject({ approved: true, fare: 0, balance: 1000 });
    expect(tapIn.journeyId).toMatch(/^J/);
    const tapOut = await tap(sys.http, gates['L2-05']!, cardNo, at('09:25'), { direction: 'out' });
    expect(tapOut).toMatchObject({ approved: true, fare: 300, balance: 700, journeyId: tapIn.journeyId });
    expect(tapOut.explanation).toEqual(['base fare metro L1-08→L2-05 6.5 km 300']);
    const rows = await sys.pool.query(`SELECT kind, fare::int, journey_id FROM taps WHERE card_no = $1 ORDER BY tapped_at`, [cardNo]);
    expect(rows.rows).toEqual([
      { kind: 'metro-in', fare: 0, journey_id: tapIn.journeyId },
      { kind: 'metro-out', fare: 300, journey_id: tapIn.journeyId },
    ]);
  });

  it('charges a tap-out without tap-in the maximum fare from the exit station', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const r = await tap(sys.http, gates.ZJS!, cardNo, at('10:00'), { direction: 'out' });
    expect(r).toMatchObject({ approved: true, fare: 400, balance: 600 });
    expect(r.explanation).toEqual(['base fare metro maximum from ZJS (no tap-in) 400']);
  });

  it('charges a taxi the meter amount, outside the cap', async () => {
    const t = await taxi(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    expect(await tap(sys.http, t, cardNo, at('11:00'), { amount: 2350 })).toMatchObject({ approved: true, fare: 2350, balance: 2650 });
    expect(await tap(sys.http, t, cardNo, at('11:30'))).toMatchObject({ approved: false, code: '13' });
  });
});

describe('closeOpenJourneys', () => {
  it('charges a tap-in never tapped out the maximum fare from its entry, exactly once', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const date = '2026-03-03';
    const tapIn = await tap(sys.http, gates.ZJS!, cardNo, at('18:00', date), { direction: 'in' });
    const first = await sys.transit.service.closeOpenJourneys(date);
    expect(first).toMatchObject({ businessDate: date, journeysClosed: 1, closedFen: 400 });
    expect(await purse(sys.http, cardNo)).toBe(600);
    const again = await sys.transit.service.closeOpenJourneys(date);
    expect(again).toMatchObject({ journeysClosed: 0, closedFen: 0, adjustments: 0 });
    expect(await purse(sys.http, cardNo)).toBe(600);
    const closes = await sys.pool.query(`SELECT op_id, amount::int FROM transfers WHERE card_no = $1 AND op_kind = 'journey-close'`, [cardNo]);
    expect(closes.rows).toEqual([{ op_id: tapIn.journeyId, amount: 400 }]);
    const journeys = await sys.pool.query(`SELECT journey_id, status, entry_station_id, fare::int FROM journeys WHERE card_no = $1`, [cardNo]);
    expect(journeys.rows).toEqual([{ journey_id: tapIn.journeyId, status: 'incomplete', entry_station_id: 'ZJS', fare: 400 }]);
    // The next day's first tap starts from a closed day: nothing is charged twice.
    expect(await tap(sys.http, b2, cardNo, at('08:00', '2026-03-04'))).toMatchObject({ approved: true, fare: 100, balance: 500 });
    expect(await paidFen(sys.pool, cardNo)).toBe(500);
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it('closes yesterday’s open journey when the card taps on a new day, once with the job', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const tapIn = await tap(sys.http, gates['L1-01']!, cardNo, at('20:00', '2026-03-05'), { direction: 'in' });
    // Max fare from L1-01: the farthest station L2-16 (11.2 + 9.6 = 20.8 km) → 500.
    expect(await tap(sys.http, b2, cardNo, at('08:00', '2026-03-06'))).toMatchObject({ approved: true, fare: 100, balance: 400 });
    await sys.transit.service.closeOpenJourneys('2026-03-05');
    expect(await purse(sys.http, cardNo)).toBe(400);
    const closes = await sys.pool.query(`SELECT op_id, amount::int FROM transfers WHERE card_no = $1 AND op_kind = 'journey-close'`, [cardNo]);
    expect(closes.rows).toEqual([{ op_id: tapIn.journeyId, amount: 500 }]);
  });
});

describe('anti-passback and idempotency', () => {
  it('declines the same card on the same validator within the window with 65, not charged', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    await tap(sys.http, b2, cardNo, at('07:00'));
    expect(await tap(sys.http, b2, cardNo, at('07:02'))).toMatchObject({ approved: false, code: '65', fare: 0 });
    expect(await purse(sys.http, cardNo)).toBe(900);
    expect(await tap(sys.http, b2, cardNo, at('07:05'))).toMatchObject({ approved: true, code: '00' });
  });

  it('answers a replayed tap the same, with no new effect; another content under the same id is 409', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const body = { tapId: tapId(), cardNo, tappedAt: at('12:00') };
    const first = await postTap(sys.http, b906, body);
    await tap(sys.http, b2, cardNo, at('14:00'));
    const before = await ledgerCounts(sys.pool, cardNo);
    const again = await postTap(sys.http, b906, body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    // Also when Redis lost the tap's record (answered from the taps table).
    await sys.redis.del(sys.keys.cardOp(cardNo, 'tap', body.tapId));
    expect((await postTap(sys.http, b906, body)).json()).toMatchObject({ approved: true, fare: 200, balance: 800 });
    expect(await ledgerCounts(sys.pool, cardNo)).toEqual(before);
    const other = await postTap(sys.http, b906, { ...body, tappedAt: at('12:01') });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('94');
    expect(await purse(sys.http, cardNo)).toBe(700);
  });

  it('replays a free ride (no transfer, only its tap row) the same', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000, cardType: 'disabled' });
    const body = { tapId: tapId(), cardNo, tappedAt: at('13:00') };
    const first = await postTap(sys.http, b2, body);
    expect(first.json()).toMatchObject({ approved: true, fare: 0, balance: 1000 });
    await sys.redis.del(sys.keys.cardOp(cardNo, 'tap', body.tapId));
    await sys.redis.del(sys.keys.cardFare(cardNo));
    expect((await postTap(sys.http, b2, body)).json()).toEqual(first.json());
    expect(await ledgerCounts(sys.pool, cardNo)).toEqual({ transfers: 1, taps: 1 });
  });
});

describe('bad input', () => {
  it('declines an unknown route or station with 12', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    // Registration refuses places outside the fare network (400, ops-admin-input.test.ts); these
    // stand for terminals whose route or station has left the network since they were registered.
    const places = sys.admin.places;
    sys.admin.places = null;
    const nowhere = await bus(sys.http, 'NOPE').finally(() => (sys.admin.places = places));
    expect(await tap(sys.http, nowhere, cardNo, at('08:00'))).toMatchObject({ approved: false, code: '12' });
    sys.admin.places = null;
    const ghost = await gate(sys.http, 'XX-99').finally(() => (sys.admin.places = places));
    expect(await tap(sys.http, ghost, cardNo, at('08:00'), { direction: 'in' })).toMatchObject({ approved: false, code: '12' });
    expect(await purse(sys.http, cardNo)).toBe(1000);
  });

  it('refuses a tappedAt in the future or unparseable, and a gate tap without direction, with 400', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const future = new Date(Date.now() + 10 * 60_000).toISOString();
    const ahead = await postTap(sys.http, b2, { tapId: tapId(), cardNo, tappedAt: future });
    expect(ahead.statusCode).toBe(400);
    expect(ahead.json()).toMatchObject({ code: '30' });
    expect(ahead.json().detail).toContain('tapFutureSkewMsMax');
    for (const tappedAt of ['yesterday', '2026-03-02 08:00', '2026-02-30T08:00:00+08:00', '2026-03-02T08:00:00']) {
      const res = await postTap(sys.http, b2, { tapId: tapId(), cardNo, tappedAt });
      expect(res.statusCode, tappedAt).toBe(400);
    }
    const noDirection = await postTap(sys.http, gates.ZJS!, { tapId: tapId(), cardNo, tappedAt: at('08:00') });
    expect(noDirection.statusCode).toBe(400);
    expect((await postTap(sys.http, b2, { tapId: tapId(), cardNo, tappedAt: at('08:00'), amount: -5 })).statusCode).toBe(400);
    expect(await purse(sys.http, cardNo)).toBe(1000);
  });

  it('declines a card number that fails Luhn with 14, and a non-transit terminal with 58', async () => {
    expect(await tap(sys.http, b2, '6200000000000001', at('08:00'))).toMatchObject({ approved: false, code: '14' });
    const pos = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    expect(await tap(sys.http, pos, cardNo, at('08:00'))).toMatchObject({ approved: false, code: '58' });
    const asAdmin = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: admin, payload: { tapId: tapId(), cardNo, tappedAt: at('08:00') } });
    expect(asAdmin.statusCode).toBe(403);
  });

  it('declines a lost card with 41 before rating', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    expect(await tap(sys.http, b2, cardNo, at('08:00'))).toMatchObject({ approved: false, code: '41' });
  });
});

describe('GET /v1/hotlist', () => {
  it('gives readers and admin the versioned delta; other terminals get 58', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const all = await sys.http.inject({ method: 'GET', url: '/v1/hotlist?since=0', headers: b2.headers });
    expect(all.statusCode).toBe(200);
    const v0 = all.json().version as number;
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'blocked' } });
    const delta = await sys.http.inject({ method: 'GET', url: `/v1/hotlist?since=${v0}`, headers: admin });
    expect(delta.json()).toMatchObject({ changes: [{ cardNo, listed: true, reason: 'blocked' }], more: false });
    expect(delta.json().version).toBeGreaterThan(v0);
    const pos = await retailPos(sys.http);
    const refused = await sys.http.inject({ method: 'GET', url: '/v1/hotlist', headers: pos.headers });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('58');
  });
});

describe('books', () => {
  it('stay balanced', async () => {
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});
