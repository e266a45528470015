// The fare engine: rates a tap against a card's day state, closes open metro journeys, re-rates a day.
// Pure: time is an argument and a decline is a value. Order per leg: base → concession → transfer → cap.
import { businessDateOf, businessDayBounds, shanghaiParts } from '../business-day.js';
import { Code } from '../codes.js';
import { applyPercent, maxFen, minFen } from '../money.js';
import { metroNetwork, type OdFare } from './network.js';
import { isCardType, type BusRoute, type CardType, type FarePolicy } from './model.js';
import { emptyDayState, type CardDayState } from './state.js';

export type TapKind = 'bus' | 'metro-in' | 'metro-out' | 'taxi';

/**
 * The 04:00 cut-over (DESIGN §2, §7): a metro tap-out at most this long after 04:00 ends the journey
 * the card opened before 04:00, on the business day the journey started in.
 */
export const cutoverExitMsMax = 2 * 3600_000;
/** …and only if that journey is at most this long (a tap-in of the previous evening is not a ride across 04:00). */
export const cutoverJourneyMsMax = 3 * 3600_000;

export interface Tap {
  kind: TapKind;
  terminalId: string;
  /** Bus: the route the validator is registered with. */
  routeId?: string;
  /** Metro: the station the gate is registered with. */
  stationId?: string;
  at: Date;
  /** Taxi: the meter's amount. */
  meterAmountFen?: bigint;
}

export interface FareCard {
  cardType: CardType;
}

export interface MetroJourney {
  status: 'complete' | 'same-station' | 'no-tap-out' | 'no-tap-in';
  entryStationId: string | null;
  entryAt: Date | null;
  exitStationId: string | null;
  exitAt: Date | null;
  /** Shortest distance travelled; null when unknown (incomplete journey, zone fares). */
  distanceM: number | null;
}

export interface Charged {
  ok: true;
  mode: 'bus' | 'metro' | 'taxi';
  /** Operator credited with the fare; null for taxi (the terminal's operator). */
  operatorId: string | null;
  /** The business date the fare belongs to. */
  businessDate: string;
  fareFen: bigint;
  /** The rules that applied, in order. */
  explanation: string[];
  state: CardDayState;
  /** Set when the tap ended (or abandoned) a metro journey. */
  journey?: MetroJourney;
}

/** 12 unknown route/station or no fare for the pair; 13 taxi without a positive meter amount; 14 card type unknown to the policy; 65 anti-passback. */
export type FareDeclineCode = typeof Code.invalidTransaction | typeof Code.invalidAmount | typeof Code.invalidCard | typeof Code.exceedsFrequency;

export interface Declined {
  ok: false;
  code: FareDeclineCode;
  reason: string;
}

export type TapResult = Charged | Declined;

const decline = (code: FareDeclineCode, reason: string): Declined => ({ ok: false, code, reason });

/** One transit leg on its way through the pipeline. */
interface Leg {
  baseFen: bigint;
  baseRule: string;
  /** Concession windows are judged at the leg's start (the tap-in), or at the tap when no start is known. */
  pricedAt: Date;
  /** null: no known start (tap-out without tap-in), so no transfer discount. */
  startMs: number | null;
  prevLegStartMs: number | null;
}

function concessionFor(policy: FarePolicy, cardType: CardType, at: Date): { percent: number; label: string } {
  const c = policy.concessions[cardType];
  if (c.peak) {
    const { hour, minute, weekday } = shanghaiParts(at);
    const minuteOfDay = hour * 60 + minute;
    const dayOk = !c.peak.weekdaysOnly || (weekday >= 1 && weekday <= 5);
    if (dayOk && c.peak.windows.some((w) => minuteOfDay >= w.startMinute && minuteOfDay < w.endMinute)) {
      return { percent: c.peak.percent, label: `concession ${cardType} peak ${c.peak.percent}%` };
    }
  }
  return { percent: c.percent, label: `concession ${cardType} ${c.percent}%` };
}

function priceLeg(policy: FarePolicy, cardType: CardType, chargedFen: bigint, leg: Leg): { fareFen: bigint; explanation: string[] } {
  const explanation = [leg.baseRule];
  let fare = leg.baseFen;
  const concession = concessionFor(policy, cardType, leg.pricedAt);
  if (concession.percent !== 100) {
    fare = applyPercent(fare, concession.percent);
    explanation.push(`${concession.label} → ${fare}`);
  }
  const t = policy.transfer;
  if (t && leg.startMs !== null && leg.prevLegStartMs !== null) {
    const gapMs = leg.startMs - leg.prevLegStartMs;
    const discount = minFen(fare, t.discountFen);
    if (gapMs >= 0 && gapMs <= t.windowSeconds * 1000 && discount > 0n) {
      fare -= discount;
      explanation.push(`transfer discount -${discount}${discount < t.discountFen ? ' (never below zero)' : ''}`);
    }
  }
  const cap = policy.dailyCapFen[cardType];
  const roomFen = maxFen(cap - chargedFen, 0n);
  if (fare > roomFen) {
    explanation.push(`daily cap ${cap}: charged remainder ${roomFen}`);
    fare = roomFen;
  }
  return { fareFen: fare, explanation };
}

function passback(day: CardDayState, terminalId: string, atMs: number, windowSeconds: number): Declined | null {
  const last = day.lastTapMs[terminalId];
  if (last === undefined || atMs < last || atMs - last >= windowSeconds * 1000) return null;
  return decline(Code.exceedsFrequency, `same card on terminal ${terminalId} ${Math.floor((atMs - last) / 1000)} s after its last tap (anti-passback ${windowSeconds} s)`);
}

/** Records an accepted tap, dropping entries no anti-passback window can reach any more (keeps the Redis value small). */
function recordTap(policy: FarePolicy, lastTapMs: Record<string, number>, terminalId: string, atMs: number): Record<string, number> {
  const reachMs = Math.max(policy.bus.antiPassbackSeconds, policy.metro.antiPassbackSeconds) * 1000;
  const kept: Record<string, number> = {};
  for (const [id, ms] of Object.entries(lastTapMs)) if (atMs - ms < reachMs) kept[id] = ms;
  kept[terminalId] = atMs;
  return kept;
}

const chargedOf = (day: CardDayState): bigint => BigInt(day.transitChargedFen);
const addCharged = (day: CardDayState, fareFen: bigint): string => (chargedOf(day) + fareFen).toString();

const routeIndexes = new WeakMap<FarePolicy['bus'], Map<string, BusRoute>>();

function routeOf(policy: FarePolicy, routeId: string | undefined): BusRoute | undefined {
  let index = routeIndexes.get(policy.bus);
  if (!index) {
    index = new Map(policy.bus.routes.map((r) => [r.routeId, r]));
    routeIndexes.set(policy.bus, index);
  }
  return routeId === undefined ? undefined : index.get(routeId);
}

function rateBus(policy: FarePolicy, cardType: CardType, day: CardDayState, tap: Tap): TapResult {
  const route = routeOf(policy, tap.routeId);
  if (!route) return decline(Code.invalidTransaction, `unknown bus route ${tap.routeId ?? '(none)'}`);
  const atMs = tap.at.getTime();
  const refused = passback(day, tap.terminalId, atMs, policy.bus.antiPassbackSeconds);
  if (refused) return refused;
  const { fareFen, explanation } = priceLeg(policy, cardType, chargedOf(day), {
    baseFen: route.fareFen,
    baseRule: `base fare ${route.routeId} ${route.fareFen}`,
    pricedAt: tap.at,
    startMs: atMs,
    prevLegStartMs: day.lastLegStartMs,
  });
  const state: CardDayState = {
    ...day,
    transitChargedFen: addCharged(day, fareFen),
    lastLegStartMs: atMs,
    lastTapMs: recordTap(policy, day.lastTapMs, tap.terminalId, atMs),
  };
  return { ok: true, mode: 'bus', operatorId: route.operatorId, businessDate: day.businessDate, fareFen, explanation, state };
}

/** Charges the open journey of `day` the maximum fare from its entry station (it was never tapped out). */
function chargeIncomplete(policy: FarePolicy, cardType: CardType, day: CardDayState): TapResult {
  const open = day.openJourney;
  if (!open) return { ok: true, mode: 'metro', operatorId: policy.metro.operatorId, businessDate: day.businessDate, fareFen: 0n, explanation: ['no open journey'], state: day };
  const max = metroNetwork(policy.metro).maxFareFrom(open.entryStationId);
  if (!max) return decline(Code.invalidTransaction, `no metro fare from station ${open.entryStationId}`);
  const entryAt = new Date(open.entryAtMs);
  const { fareFen, explanation } = priceLeg(policy, cardType, chargedOf(day), {
    baseFen: max.fareFen,
    baseRule: `base fare metro maximum from ${open.entryStationId} (incomplete journey: no tap-out) ${max.fareFen}`,
    pricedAt: entryAt,
    startMs: open.entryAtMs,
    prevLegStartMs: open.prevLegStartMs,
  });
  const state: CardDayState = { ...day, transitChargedFen: addCharged(day, fareFen), openJourney: null };
  const journey: MetroJourney = { status: 'no-tap-out', entryStationId: open.entryStationId, entryAt, exitStationId: null, exitAt: null, distanceM: null };
  return { ok: true, mode: 'metro', operatorId: policy.metro.operatorId, businessDate: day.businessDate, fareFen, explanation, state, journey };
}

function rateMetroIn(policy: FarePolicy, cardType: CardType, day: CardDayState, tap: Tap, stationId: string): TapResult {
  const atMs = tap.at.getTime();
  const refused = passback(day, tap.terminalId, atMs, policy.metro.antiPassbackSeconds);
  if (refused) return refused;
  // A new tap-in while a journey is open: the old one was never tapped out, so it is closed now as
  // incomplete (maximum fare from its entry), and that charge is this tap's fare.
  const closed = day.openJourney ? chargeIncomplete(policy, cardType, day) : null;
  if (closed && !closed.ok) return closed;
  const before = closed ? closed.state : day;
  const state: CardDayState = {
    ...before,
    lastLegStartMs: atMs,
    openJourney: { entryStationId: stationId, entryAtMs: atMs, prevLegStartMs: before.lastLegStartMs },
    lastTapMs: recordTap(policy, before.lastTapMs, tap.terminalId, atMs),
  };
  const explanation = [...(closed?.explanation ?? []), `metro tap-in ${stationId}: fare charged at tap-out`];
  const result: Charged = { ok: true, mode: 'metro', operatorId: policy.metro.operatorId, businessDate: day.businessDate, fareFen: closed?.fareFen ?? 0n, explanation, state };
  if (closed?.journey) result.journey = closed.journey;
  return result;
}

function rateMetroOut(policy: FarePolicy, cardType: CardType, day: CardDayState, tap: Tap, stationId: string): TapResult {
  const atMs = tap.at.getTime();
  const refused = passback(day, tap.terminalId, atMs, policy.metro.antiPassbackSeconds);
  if (refused) return refused;
  const network = metroNetwork(policy.metro);
  const open = day.openJourney;
  let leg: Leg;
  let journey: MetroJourney;
  if (!open) {
    const max = network.maxFareFrom(stationId);
    if (!max) return decline(Code.invalidTransaction, `no metro fare from station ${stationId}`);
    leg = { baseFen: max.fareFen, baseRule: `base fare metro maximum from ${stationId} (no tap-in) ${max.fareFen}`, pricedAt: tap.at, startMs: null, prevLegStartMs: null };
    journey = { status: 'no-tap-in', entryStationId: null, entryAt: null, exitStationId: stationId, exitAt: tap.at, distanceM: null };
  } else {
    const entryAt = new Date(open.entryAtMs);
    const same = policy.metro.sameStationExit;
    const sameStation = open.entryStationId === stationId && atMs >= open.entryAtMs && atMs - open.entryAtMs <= same.withinSeconds * 1000;
    let fare: OdFare | undefined;
    if (sameStation) {
      fare = { fareFen: same.fareFen, distanceM: 0, basis: `same-station exit within ${same.withinSeconds / 60} min` };
    } else {
      fare = network.fare(open.entryStationId, stationId);
      if (!fare) return decline(Code.invalidTransaction, `no metro fare from ${open.entryStationId} to ${stationId}`);
    }
    leg = {
      baseFen: fare.fareFen,
      baseRule: `base fare metro ${open.entryStationId}→${stationId} ${fare.basis} ${fare.fareFen}`,
      pricedAt: entryAt,
      startMs: open.entryAtMs,
      prevLegStartMs: open.prevLegStartMs,
    };
    journey = { status: sameStation ? 'same-station' : 'complete', entryStationId: open.entryStationId, entryAt, exitStationId: stationId, exitAt: tap.at, distanceM: fare.distanceM };
  }
  const { fareFen, explanation } = priceLeg(policy, cardType, chargedOf(day), leg);
  const state: CardDayState = {
    ...day,
    transitChargedFen: addCharged(day, fareFen),
    openJourney: null,
    lastTapMs: recordTap(policy, day.lastTapMs, tap.terminalId, atMs),
  };
  return { ok: true, mode: 'metro', operatorId: policy.metro.operatorId, businessDate: day.businessDate, fareFen, explanation, state, journey };
}

function rateTaxi(day: CardDayState, tap: Tap): TapResult {
  const meter = tap.meterAmountFen;
  if (meter === undefined || meter <= 0n) return decline(Code.invalidAmount, 'taxi tap needs a positive meter amount');
  const explanation = [`taxi meter ${meter} (no concession; not a transit fare for the daily cap)`];
  return { ok: true, mode: 'taxi', operatorId: null, businessDate: day.businessDate, fareFen: meter, explanation, state: day };
}

/**
 * The business date a tap is rated on, given the card's state: its own, except a metro tap-out just
 * after 04:00 that ends a journey opened before 04:00 (the cut-over rule), which belongs to the
 * journey's day.
 */
export function tapBusinessDate(state: CardDayState | null, tap: Pick<Tap, 'kind' | 'at'>): string {
  const own = businessDateOf(tap.at);
  const open = state?.openJourney;
  if (tap.kind !== 'metro-out' || !state || !open || state.businessDate >= own) return own;
  const cutover = businessDayBounds(state.businessDate).end.getTime();
  const atMs = tap.at.getTime();
  if (cutover !== businessDayBounds(own).start.getTime()) return own; // not the day right before
  if (atMs - cutover > cutoverExitMsMax || atMs - open.entryAtMs > cutoverJourneyMsMax || open.entryAtMs >= cutover) return own;
  return state.businessDate;
}

/**
 * Rates one tap. `state` is the card's day state (null: none yet); one from another business date
 * than the tap's is treated as a fresh day (except a tap-out across 04:00, tapBusinessDate).
 * Declined taps leave the state as it was.
 */
export function rateTap(policy: FarePolicy, card: FareCard, state: CardDayState | null, tap: Tap): TapResult {
  if (!Number.isFinite(tap.at.getTime())) return decline(Code.invalidTransaction, 'tap time is not a valid date');
  if (!isCardType(card.cardType)) return decline(Code.invalidCard, `card type ${String(card.cardType)} is not in the fare policy`);
  const businessDate = tapBusinessDate(state, tap);
  const day = state !== null && state.businessDate === businessDate ? state : emptyDayState(businessDate);
  const metroStation = (): string | null => (tap.stationId !== undefined && metroNetwork(policy.metro).hasStation(tap.stationId) ? tap.stationId : null);
  switch (tap.kind) {
    case 'bus':
      return rateBus(policy, card.cardType, day, tap);
    case 'metro-in':
    case 'metro-out': {
      const stationId = metroStation();
      if (stationId === null) return decline(Code.invalidTransaction, `unknown metro station ${tap.stationId ?? '(none)'}`);
      return tap.kind === 'metro-in' ? rateMetroIn(policy, card.cardType, day, tap, stationId) : rateMetroOut(policy, card.cardType, day, tap, stationId);
    }
    case 'taxi':
      return rateTaxi(day, tap);
    default:
      return decline(Code.invalidTransaction, `unknown tap kind ${String((tap as { kind: unknown }).kind)}`);
  }
}

/**
 * End of day (the close-journeys job): an open journey is charged the maximum fare from its entry
 * station, on the state's business date (`at` may already be the next day). No open journey: fare 0.
 */
export function closeOpenJourney(policy: FarePolicy, card: FareCard, state: CardDayState, at: Date): TapResult {
  if (!isCardType(card.cardType)) return decline(Code.invalidCard, `card type ${String(card.cardType)} is not in the fare policy`);
  const result = chargeIncomplete(policy, card.cardType, state);
  if (!result.ok || !result.journey) return result;
  return { ...result, explanation: [...result.explanation, `closed at ${at.toISOString()}`] };
}

export interface DayRating {
  /** results[i] is the result of taps[i] (rating itself runs in `at` order). */
  results: TapResult[];
  /** The end-of-day closure when `closeAt` was given and a journey was left open. */
  closing: TapResult | null;
  /** Every approved fare of the day, taxi included. */
  totalFen: bigint;
  /** Transit fares only (what the daily cap bounds). */
  transitFen: bigint;
  state: CardDayState | null;
}

/**
 * Rates a business day of taps from an empty state, in `at` order (ties keep input order): exactly
 * rateTap applied in sequence. For re-rating when an offline tap arrives late: the ledger adjusts by
 * the difference between the new total and what was charged.
 */
export function rateDay(policy: FarePolicy, card: FareCard, taps: readonly Tap[], options: { closeAt?: Date } = {}): DayRating {
  const order = taps.map((tap, index) => ({ tap, index })).sort((a, b) => a.tap.at.getTime() - b.tap.at.getTime() || a.index - b.index);
  const results = new Array<TapResult>(taps.length);
  let state: CardDayState | null = null;
  let totalFen = 0n;
  let transitFen = 0n;
  let closing: TapResult | null = null;
  for (const { tap, index } of order) {
    const r = rateTap(policy, card, state, tap);
    results[index] = r;
    if (!r.ok) continue;
    state = r.state;
    totalFen += r.fareFen;
    if (r.mode !== 'taxi') transitFen += r.fareFen;
  }
  if (options.closeAt && state?.openJourney) {
    closing = closeOpenJourney(policy, card, state, options.closeAt);
    if (closing.ok) {
      state = closing.state;
      totalFen += closing.fareFen;
      transitFen += closing.fareFen;
    }
  }
  return { results, closing, totalFen, transitFen, state };
}
