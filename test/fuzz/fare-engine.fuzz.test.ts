// Properties of the fare engine over random days of taps: no negative fare, the cap holds, a day
// re-rated at once equals the taps rated one by one (with the state through JSON, as in Redis), and
// the order in which taps arrive does not change a day's total. Time-boxed, corpus first (support/fuzz.ts).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { businessDayBounds } from '../../src/domain/business-day.js';
import { cardTypes, parsePolicy, rateDay, rateTap, type CardDayState, type Tap, type TapResult } from '../../src/domain/fare/index.js';
import { fuzzProperty } from './support/fuzz.js';

const policy = parsePolicy(JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')));
const stations = [...new Set(policy.metro.lines.flatMap((l) => l.stations.map((s) => s.stationId)))];

/** A business day of the week of Monday 2026-03-02, so seniors meet weekdays and weekends. */
const dayStartArb = fc.integer({ min: 0, max: 6 }).map((d) => businessDayBounds(`2026-03-0${2 + d}`).start.getTime());

/** Taps within one business day; times often bunched (two hours, ten minutes) so transfers, caps and anti-passback happen. */
const tapArb = (dayStartMs: number): fc.Arbitrary<Tap> =>
  fc
    .record({
      kind: fc.constantFrom<Tap['kind']>('bus', 'bus', 'metro-in', 'metro-out', 'metro-in', 'metro-out', 'taxi'),
      terminal: fc.integer({ min: 0, max: 1 }),
      routeId: fc.constantFrom('B2', 'B906', 'BRT1', 'B404'),
      stationId: fc.constantFrom(...stations, 'L9-99'),
      offsetS: fc.oneof(fc.integer({ min: 0, max: 86_399 }), fc.integer({ min: 3 * 3600, max: 5 * 3600 }), fc.integer({ min: 4 * 3600, max: 4 * 3600 + 600 })),
      meterAmountFen: fc.bigInt({ min: -10n, max: 20_000n }),
    })
    .map(({ kind, terminal, routeId, stationId, offsetS, meterAmountFen }) => {
      const at = new Date(dayStartMs + offsetS * 1000);
      if (kind === 'bus') return { kind, terminalId: `BUS${terminal}`, routeId, at };
      if (kind === 'taxi') return { kind, terminalId: 'TAXI', at, meterAmountFen };
      return { kind, terminalId: `${kind}-${stationId}-${terminal}`, stationId, at };
    });

const dayArb = dayStartArb.chain((startMs) => fc.record({ startMs: fc.constant(startMs), taps: fc.array(tapArb(startMs), { maxLength: 40, size: 'large' }) }));
const cardArb = fc.constantFrom(...cardTypes);

const transitOf = (results: (TapResult | null)[]): bigint => results.reduce((sum, r) => (r?.ok && r.mode !== 'taxi' ? sum + r.fareFen : sum), 0n);

describe('fare engine properties', () => {
  fuzzProperty({
    id: 'fare-day-bounds',
    title: 'never charges a negative fare, and a day of transit never exceeds the cap',
    arbitraries: [cardArb, dayArb],
    predicate: (cardType, { startMs, taps }) => {
      const day = rateDay(policy, { cardType }, taps, { closeAt: new Date(startMs + 86_400_000 + 1_800_000) });
      for (const r of [...day.results, day.closing]) if (r?.ok) expect(r.fareFen).toBeGreaterThanOrEqual(0n);
      expect(day.transitFen).toBe(transitOf([...day.results, day.closing]));
      expect(day.transitFen).toBeLessThanOrEqual(policy.dailyCapFen[cardType]);
      if (day.state) expect(BigInt(day.state.transitChargedFen)).toBe(day.transitFen);
      if (cardType === 'disabled') expect(day.transitFen).toBe(0n);
    },
    numRunsMax: 300,
  });

  fuzzProperty({
    id: 'fare-day-equals-taps',
    title: 'rates a day exactly as rateTap applied in `at` order, with the state through JSON between taps',
    arbitraries: [cardArb, dayArb],
    predicate: (cardType, { taps }) => {
      const day = rateDay(policy, { cardType }, taps);
      const order = taps.map((tap, index) => ({ tap, index })).sort((a, b) => a.tap.at.getTime() - b.tap.at.getTime() || a.index - b.index);
      let stored: string | null = null; // what Redis would hold
      const sequential = new Array<TapResult>(taps.length);
      for (const { tap, index } of order) {
        const state = stored === null ? null : (JSON.parse(stored) as CardDayState);
        const r = rateTap(policy, { cardType }, state, tap);
        sequential[index] = r;
        if (r.ok) stored = JSON.stringify(r.state);
      }
      expect(day.results).toEqual(sequential);
      expect(day.state === null ? null : JSON.stringify(day.state)).toBe(stored);
    },
    numRunsMax: 300,
  });

  fuzzProperty({
    id: 'fare-day-arrival-order',
    title: 'gives the same day whatever order the taps arrive in (late offline taps re-rate the day)',
    arbitraries: [
      cardArb,
      dayArb.chain(({ taps }) => {
        // Distinct times, so `at` order is the only order.
        const unique = [...new Map(taps.map((t) => [t.at.getTime(), t])).values()];
        return fc.tuple(fc.constant(unique), fc.shuffledSubarray(unique, { minLength: unique.length, maxLength: unique.length }));
      }),
    ],
    predicate: (cardType, [taps, arrived]) => {
      const a = rateDay(policy, { cardType }, taps);
      const b = rateDay(policy, { cardType }, arrived);
      expect(b.totalFen).toBe(a.totalFen);
      expect(b.state).toEqual(a.state);
    },
    numRunsMax: 200,
  });
});
