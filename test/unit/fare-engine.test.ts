// Every fare rule of the demo policy and how they combine: base → concession → transfer → cap.
// Times are Asia/Shanghai wall clock; 2026-03-02 is a Monday, 2026-03-07 a Saturday.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  closeOpenJourney,
  emptyDayState,
  parseCardDayState,
  parsePolicy,
  rateTap,
  type CardDayState,
  type CardType,
  type Charged,
  type FarePolicy,
  type Tap,
  type TapResult,
} from '../../src/domain/fare/index.js';

type Json = Record<string, unknown>;
const demoJson = (): Json => JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')) as Json;
const policy = parsePolicy(demoJson());

/** '08:00' on Monday 2026-03-02, or a full local 'YYYY-MM-DDTHH:MM[:SS]'. */
const sh = (local: string): Date => new Date(`${local.length <= 8 ? `2026-03-02T${local}` : local}+08:00`);
const bus = (routeId: string, local: string, terminalId = `V-${routeId}-${local}`): Tap => ({ kind: 'bus', terminalId, routeId, at: sh(local) });
const tapIn = (stationId: string, local: string, terminalId = `IN-${stationId}`): Tap => ({ kind: 'metro-in', terminalId, stationId, at: sh(local) });
const tapOut = (stationId: string, local: string, terminalId = `OUT-${stationId}`): Tap => ({ kind: 'metro-out', terminalId, stationId, at: sh(local) });
const taxi = (meterAmountFen: bigint, local: string): Tap => ({ kind: 'taxi', terminalId: 'TAXI0001', at: sh(local), meterAmountFen });

function charged(r: TapResult): Charged {
  if (!r.ok) throw new Error(`declined ${r.code}: ${r.reason}`);
  return r;
}

/** Rates taps in sequence, carrying the state; returns each result. Declined taps keep the state. */
function ride(cardType: CardType, taps: Tap[], start: CardDayState | null = null, p: FarePolicy = policy): TapResult[] {
  let state = start;
  return taps.map((tap) => {
    const r = rateTap(p, { cardType }, state, tap);
    if (r.ok) state = r.state;
    return r;
  });
}
const fares = (results: TapResult[]): (bigint | string)[] => results.map((r) => (r.ok ? r.fareFen : `declined ${r.code}`));

describe('bus', () => {
  it('charges the route flat fare', () => {
    const r = charged(rateTap(policy, { cardType: 'adult' }, null, bus('B2', '08:00')));
    expect(r.fareFen).toBe(100n);
    expect(r.explanation).toEqual(['base fare B2 100']);
    expect(r).toMatchObject({ mode: 'bus', operatorId: 'ZZBUS', businessDate: '2026-03-02' });
    expect(r.state).toMatchObject({ transitChargedFen: '100', lastLegStartMs: sh('08:00').getTime() });
  });

  it('declines an unknown or missing route with 12', () => {
    expect(rateTap(policy, { cardType: 'adult' }, null, bus('B999', '08:00'))).toMatchObject({ ok: false, code: '12' });
    expect(rateTap(policy, { cardType: 'adult' }, null, { kind: 'bus', terminalId: 'V1', at: sh('08:00') })).toMatchObject({ ok: false, code: '12' });
  });
});

describe('metro', () => {
  it('charges nothing at tap-in and the distance fare at tap-out, across lines through ZJS', () => {
    const [tin, tout] = ride('adult', [tapIn('L1-08', '08:00'), tapOut('L2-05', '08:25')]);
    expect(charged(tin!).fareFen).toBe(0n);
    expect(charged(tin!).state.openJourney).toEqual({ entryStationId: 'L1-08', entryAtMs: sh('08:00').getTime(), prevLegStartMs: null });
    // L1-08 → ZJS 11.2 − 8.3 = 2.9 km, ZJS → L2-05 8.4 − 4.8 = 3.6 km: 6.5 km → band ≤11 km → 300.
    const out = charged(tout!);
    expect(out.fareFen).toBe(300n);
    expect(out.explanation).toEqual(['base fare metro L1-08→L2-05 6.5 km 300']);
    expect(out.journey).toEqual({ status: 'complete', entryStationId: 'L1-08', entryAt: sh('08:00'), exitStationId: 'L2-05', exitAt: sh('08:25'), distanceM: 6500 });
    expect(out.state.openJourney).toBeNull();
  });

  it('puts exactly 6.0 km in the 200 band and 6.1 km in the 300 band', () => {
    expect(fares(ride('adult', [tapIn('L2-09', '08:00'), tapOut('L2-14', '08:20')]))).toEqual([0n, 200n]); // 15.5 − 9.5 = 6.0 km
    expect(fares(ride('adult', [tapIn('L1-01', '08:00'), tapOut('L1-06', '08:20')]))).toEqual([0n, 300n]); // 6.1 − 0.0 = 6.1 km
  });

  it('adds a step per started 9 km past the last band', () => {
    // A made-up line L9 leaving the L1 terminus L1-18, with stations 24, 30, 33 and 33.1 km out.
    const json = demoJson();
    const km = [24, 30, 33, 33.1];
    const stations = [{ stationId: 'L1-18', name: 'Zhengzhoudongzhan', km: 0 }, ...km.map((k) => ({ stationId: `X${k}`, name: `Far ${k}`, km: k }))];
    (json.metro as { lines: unknown[] }).lines.push({ lineId: 'L9', stations });
    const long = parsePolicy(json);
    const fareTo = (to: string): bigint | string | undefined => fares(ride('adult', [tapIn('L1-18', '10:00'), tapOut(to, '11:00')], null, long))[1];
    expect(fareTo('X24')).toBe(500n); // 24.0 km: last band, inclusive
    expect(fareTo('X30')).toBe(600n); // 6.0 km past 24: one started 9 km step, 500 + 100
    expect(fareTo('X33')).toBe(600n); // 9.0 km past: still one step
    expect(fareTo('X33.1')).toBe(700n); // 9.1 km past: two steps, 500 + 2 × 100
    const out = charged(ride('adult', [tapIn('L1-18', '10:00'), tapOut('X33.1', '11:00')], null, long)[1]!);
    expect(out.explanation).toEqual(['base fare metro L1-18→X33.1 33.1 km (500 + 2 × 100 per started 9.0 km past 24.0 km) 700']);
  });

  it('charges the same-station exit fare (0) within 20 minutes, the 0 km fare after', () => {
    const quick = ride('adult', [tapIn('L1-03', '08:00'), tapOut('L1-03', '08:20')]); // 20 min: inclusive
    expect(fares(quick)).toEqual([0n, 0n]);
    expect(charged(quick[1]!).journey?.status).toBe('same-station');
    expect(charged(quick[1]!).explanation).toEqual(['base fare metro L1-03→L1-03 same-station exit within 20 min 0']);
    const slow = ride('adult', [tapIn('L1-03', '08:00'), tapOut('L1-03', '08:21')]);
    expect(fares(slow)).toEqual([0n, 200n]); // 0 km → band ≤6 km → 200
  });

  it('charges a tap-out without tap-in the maximum fare from the exit station, with no transfer discount', () => {
    const [out, next] = ride('adult', [tapOut('ZJS', '08:00'), bus('B2', '08:10')]);
    // Farthest from ZJS: L1-01 at 11.2 km → band ≤17 km → 400.
    expect(charged(out!).fareFen).toBe(400n);
    expect(charged(out!).explanation).toEqual(['base fare metro maximum from ZJS (no tap-in) 400']);
    expect(charged(out!).journey).toMatchObject({ status: 'no-tap-in', entryStationId: null, exitStationId: 'ZJS' });
    // It has no known start, so it starts no paid leg: the bus 10 minutes later pays in full.
    expect(charged(next!).fareFen).toBe(100n);
  });

  it('closes an open journey as incomplete when the card taps in again', () => {
    const results = ride('adult', [tapIn('L1-01', '08:00'), tapIn('L1-05', '09:30'), tapOut('L1-06', '09:50')]);
    // Second tap-in: the L1-01 journey never tapped out → maximum from L1-01 (L1-18 at 21.3 km → 500).
    const second = charged(results[1]!);
    expect(second.fareFen).toBe(500n);
    expect(second.explanation).toEqual(['base fare metro maximum from L1-01 (incomplete journey: no tap-out) 500', 'metro tap-in L1-05: fare charged at tap-out']);
    expect(second.journey).toMatchObject({ status: 'no-tap-out', entryStationId: 'L1-01', exitStationId: null });
    expect(second.state.openJourney?.entryStationId).toBe('L1-05');
    // L1-05 → L1-06: 6.1 − 5.0 = 1.1 km → 200; 09:30 is 90 min after the 08:00 leg: no discount.
    expect(charged(results[2]!).fareFen).toBe(200n);
    expect(charged(results[2]!).state.transitChargedFen).toBe('700'); // 500 + 200
  });

  it('closes an open journey at the end of the day with the maximum fare from its entry', () => {
    const open = charged(rateTap(policy, { cardType: 'student' }, null, tapIn('L2-09', '20:00'))).state;
    const r = charged(closeOpenJourney(policy, { cardType: 'student' }, open, sh('2026-03-03T04:30')));
    // Farthest from L2-09: L1-01 at 1.1 + 11.2 = 12.3 km → 400; student 50% → 200.
    expect(r.fareFen).toBe(200n);
    expect(r.businessDate).toBe('2026-03-02'); // the journey's day, though the job runs on the 3rd
    expect(r.explanation).toEqual(['base fare metro maximum from L2-09 (incomplete journey: no tap-out) 400', 'concession student 50% → 200', 'closed at 2026-03-02T20:30:00.000Z']);
    expect(r.state).toMatchObject({ openJourney: null, transitChargedFen: '200' });
    const nothing = charged(closeOpenJourney(policy, { cardType: 'student' }, r.state, sh('2026-03-03T04:30')));
    expect(nothing.fareFen).toBe(0n);
    expect(nothing.explanation).toEqual(['no open journey']);
  });

  it('declines an unknown station with 12', () => {
    expect(rateTap(policy, { cardType: 'adult' }, null, tapIn('L9-99', '08:00'))).toMatchObject({ ok: false, code: '12' });
    expect(rateTap(policy, { cardType: 'adult' }, null, { kind: 'metro-out', terminalId: 'G', at: sh('08:00') })).toMatchObject({ ok: false, code: '12' });
  });
});

describe('transfer discount', () => {
  it('takes 100 off a leg started within 60 minutes of the previous leg start', () => {
    const r = ride('adult', [bus('B2', '08:00'), bus('B906', '08:30')]);
    expect(fares(r)).toEqual([100n, 100n]); // 200 − 100
    expect(charged(r[1]!).explanation).toEqual(['base fare B906 200', 'transfer discount -100']);
  });

  it('counts exactly 60 minutes as inside, one second more as outside', () => {
    expect(fares(ride('adult', [bus('B2', '08:00'), bus('B906', '09:00')]))).toEqual([100n, 100n]);
    expect(fares(ride('adult', [bus('B2', '08:00'), bus('B906', '09:00:01')]))).toEqual([100n, 200n]);
  });

  it('measures a metro leg from its tap-in, not its tap-out', () => {
    // Bus 08:00; tap-in 08:40 (inside), tap-out 09:30 (90 min after the bus): 6.1 km 300 − 100 = 200.
    expect(fares(ride('adult', [bus('B2', '08:00'), tapIn('L1-01', '08:40'), tapOut('L1-06', '09:30')]))).toEqual([100n, 0n, 200n]);
    // Metro then bus: the bus at 08:50 is 50 min after the 08:00 tap-in: 200 − 100 = 100.
    expect(fares(ride('adult', [tapIn('L1-01', '08:00'), tapOut('L1-05', '08:20'), bus('B906', '08:50')]))).toEqual([0n, 200n, 100n]);
  });

  it('chains from the previous leg, one discount per leg', () => {
    // 08:50 is inside 08:00's window, 09:40 inside 08:50's: 100, 100 − 100, 200 − 100.
    expect(fares(ride('adult', [bus('B2', '08:00'), bus('B2', '08:50'), bus('B906', '09:40')]))).toEqual([100n, 0n, 100n]);
  });
});

describe('concessions', () => {
  it('halves a student base fare, then takes the discount, never below zero', () => {
    const r = ride('student', [bus('B2', '08:00'), bus('B2', '08:30'), bus('B906', '08:40')]);
    // 100 × 50% = 50; then 50 − min(50, 100) = 0; then 200 × 50% = 100 − 100 = 0.
    expect(fares(r)).toEqual([50n, 0n, 0n]);
    expect(charged(r[1]!).explanation).toEqual(['base fare B2 100', 'concession student 50% → 50', 'transfer discount -50 (never below zero)']);
  });

  it('rounds half-even to whole fen', () => {
    const json = demoJson();
    (json.bus as { routes: unknown[] }).routes.push({ routeId: 'R105', name: 'odd', operatorId: 'ZZBUS', fare: 105 }, { routeId: 'R115', name: 'odd', operatorId: 'ZZBUS', fare: 115 });
    const odd = parsePolicy(json);
    expect(charged(rateTap(odd, { cardType: 'student' }, null, bus('R105', '08:00'))).fareFen).toBe(52n); // 52.5 → 52 (even)
    expect(charged(rateTap(odd, { cardType: 'student' }, null, bus('R115', '08:00'))).fareFen).toBe(58n); // 57.5 → 58 (even)
  });

  it('lets seniors ride free except in weekday peak windows (50%)', () => {
    const senior = (local: string): bigint => charged(rateTap(policy, { cardType: 'senior' }, null, bus('B906', local))).fareFen;
    expect(senior('07:00')).toBe(100n); // Monday, window start inclusive: 200 × 50%
    expect(senior('08:59')).toBe(100n);
    expect(senior('09:00')).toBe(0n); // window end exclusive
    expect(senior('10:00')).toBe(0n);
    expect(senior('17:30')).toBe(100n);
    expect(senior('19:00')).toBe(0n);
    expect(senior('2026-03-07T08:00')).toBe(0n); // Saturday
    expect(senior('2026-03-08T17:30')).toBe(0n); // Sunday
    expect(charged(rateTap(policy, { cardType: 'senior' }, null, bus('B906', '08:00'))).explanation).toEqual(['base fare B906 200', 'concession senior peak 50% → 100']);
  });

  it('judges a senior metro leg at its tap-in time', () => {
    // In at 08:50 (peak), out at 09:20: L1-01 → L1-06 300 × 50% = 150.
    expect(fares(ride('senior', [tapIn('L1-01', '08:50'), tapOut('L1-06', '09:20')]))).toEqual([0n, 150n]);
    // In at 06:50 (off-peak), out at 07:20: free.
    expect(fares(ride('senior', [tapIn('L1-01', '06:50'), tapOut('L1-06', '07:20')]))).toEqual([0n, 0n]);
  });

  it('lets disabled card holders ride free', () => {
    const r = ride('disabled', [bus('B906', '08:00'), tapIn('L1-01', '09:30'), tapOut('L2-16', '10:10')]);
    expect(fares(r)).toEqual([0n, 0n, 0n]);
    expect(charged(r[0]!).explanation).toEqual(['base fare B906 200', 'concession disabled 0% → 0']);
  });
});

describe('daily cap', () => {
  // B906 every 70 minutes: outside each other's transfer window, 200 each.
  const fiveBuses = ['06:00', '07:10', '08:20', '09:30', '10:40'].map((t) => bus('B906', t));

  it('charges the leg that crosses the cap only the remainder, and nothing after', () => {
    const r = ride('adult', [...fiveBuses, tapIn('L1-01', '11:50'), tapOut('L1-06', '12:10'), bus('B2', '13:30')]);
    // 5 × 200 = 1000; metro 300 but only 1200 − 1000 = 200 left; then 0.
    expect(fares(r)).toEqual([200n, 200n, 200n, 200n, 200n, 0n, 200n, 0n]);
    expect(charged(r[6]!).explanation).toEqual(['base fare metro L1-01→L1-06 6.1 km 300', 'daily cap 1200: charged remainder 200']);
    expect(charged(r[7]!).explanation).toEqual(['base fare B2 100', 'daily cap 1200: charged remainder 0']);
    expect(charged(r[7]!).state.transitChargedFen).toBe('1200');
  });

  it('caps a student at 600 after concession and discount', () => {
    // Metro 20.8 km 500 × 50% = 250 each, 90 min apart (no discount): 250, 250, then 600 − 500 = 100.
    const trip = (inAt: string, outAt: string): Tap[] => [tapIn('L1-01', inAt), tapOut('L2-16', outAt)];
    const r = ride('student', [...trip('07:00', '07:40'), ...trip('08:30', '09:10'), ...trip('10:00', '10:40')]);
    expect(fares(r)).toEqual([0n, 250n, 0n, 250n, 0n, 100n]);
  });

  it('leaves taxi fares out of the cap and out of concessions', () => {
    const r = ride('adult', [...fiveBuses, bus('B906', '11:50'), taxi(3500n, '12:30')]);
    const t = charged(r[6]!);
    expect(t.fareFen).toBe(3500n); // cap already reached by transit; the meter amount is charged in full
    expect(t).toMatchObject({ mode: 'taxi', operatorId: null });
    expect(t.state.transitChargedFen).toBe('1200');
    // A taxi first does not use up the cap, nor start a transfer window.
    expect(fares(ride('student', [taxi(5000n, '08:00'), bus('B2', '08:10')]))).toEqual([5000n, 50n]);
    expect(rateTap(policy, { cardType: 'adult' }, null, { kind: 'taxi', terminalId: 'T', at: sh('08:00') })).toMatchObject({ ok: false, code: '13' });
  });
});

describe('business day', () => {
  const capped: CardDayState = { ...emptyDayState('2026-03-02'), transitChargedFen: '1200' };

  it('runs 04:00 to 04:00: 03:59 belongs to the day before, 04:00 starts a fresh day and cap', () => {
    const late = charged(rateTap(policy, { cardType: 'adult' }, capped, bus('B2', '2026-03-03T03:59')));
    expect(late).toMatchObject({ businessDate: '2026-03-02', fareFen: 0n });
    const early = charged(rateTap(policy, { cardType: 'adult' }, late.state, bus('B2', '2026-03-03T04:00', 'V2')));
    expect(early).toMatchObject({ businessDate: '2026-03-03', fareFen: 100n }); // no cap, and no transfer from 03:59
    expect(early.state.transitChargedFen).toBe('100');
  });
});

describe('anti-passback', () => {
  it('declines the same card on the same bus validator within 300 s with 65, without charging', () => {
    const r = ride('adult', [bus('B2', '08:00', 'V1'), bus('B2', '08:04:59', 'V1'), bus('B2', '08:01', 'V2'), bus('B2', '08:05:00', 'V1')]);
    expect(fares(r)).toEqual([100n, 'declined 65', 0n, 0n]); // other validator: a transfer, 100 − 100; 300 s later: accepted
    expect(r[1]).toMatchObject({ reason: 'same card on terminal V1 299 s after its last tap (anti-passback 300 s)' });
    expect(charged(r[3]!).state.transitChargedFen).toBe('100');
  });

  it('declines a second tap-out on the same gate within 120 s (it would be charged as a tap-out without tap-in)', () => {
    const r = ride('adult', [tapIn('L1-01', '08:00', 'G1'), tapOut('L1-05', '08:20', 'G2'), tapOut('L1-05', '08:21:59', 'G2'), tapIn('L1-05', '08:21:00', 'G1')]);
    expect(fares(r)).toEqual([0n, 200n, 'declined 65', 0n]);
    expect(fares(ride('adult', [tapIn('L1-01', '08:00', 'G1'), tapIn('L1-01', '08:02', 'G1')]))).toEqual([0n, 500n]); // 120 s later: accepted, first journey incomplete
  });
});

describe('inputs and state', () => {
  it('declines a card type the policy does not know with 14', () => {
    expect(rateTap(policy, { cardType: 'vip' as CardType }, null, bus('B2', '08:00'))).toMatchObject({ ok: false, code: '14' });
  });

  it('keeps a state that survives JSON (Redis) unchanged', () => {
    const r = ride('adult', [bus('B2', '08:00'), tapIn('L1-01', '08:30')]);
    const state = charged(r[1]!).state;
    const back = JSON.parse(JSON.stringify(state)) as unknown;
    expect(parseCardDayState(back)).toEqual(state);
    expect(parseCardDayState({ ...state, transitChargedFen: 12 })).toBeNull();
    expect(parseCardDayState({ ...state, openJourney: { entryStationId: 'L1-01' } })).toBeNull();
    // Anti-passback entries older than every window are dropped: only the gate is left.
    expect(Object.keys(state.lastTapMs)).toEqual(['IN-L1-01']);
  });
});
