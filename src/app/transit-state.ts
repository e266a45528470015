// A card's transit day state as Redis holds it (keys.cardFare): "<version>|<json>", where the JSON is
// the fare engine's CardDayState plus the time of the latest tap rated into it. The version changes
// on every write, so the gate can check that a tap was rated on the state it replaces.
import { randomBytes } from 'node:crypto';
import { emptyDayState, parseCardDayState, type CardDayState } from '../domain/fare/index.js';

export interface FareState {
  state: CardDayState;
  /** Epoch ms of the latest tap rated into `state`; an older tap is late and re-rates the day. */
  lastAtMs: number | null;
}

export interface StoredFareState extends FareState {
  version: string;
  raw: string;
}

export function newFareVersion(): string {
  return randomBytes(6).toString('base64url');
}

export function encodeFareState(s: FareState): { version: string; raw: string } {
  const version = newFareVersion();
  return { version, raw: `${version}|${JSON.stringify({ ...s.state, lastAtMs: s.lastAtMs })}` };
}

/** The stored state, or null when there is none or it does not read back as one (then it is rebuilt). */
export function decodeFareState(raw: string | null | undefined): StoredFareState | null {
  if (!raw) return null;
  const bar = raw.indexOf('|');
  if (bar <= 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw.slice(bar + 1));
  } catch {
    return null;
  }
  const state = parseCardDayState(json);
  if (!state) return null;
  const lastAtMs = (json as { lastAtMs?: unknown }).lastAtMs;
  return { version: raw.slice(0, bar), raw, state, lastAtMs: typeof lastAtMs === 'number' && Number.isSafeInteger(lastAtMs) ? lastAtMs : null };
}

export function freshDay(businessDate: string): FareState {
  return { state: emptyDayState(businessDate), lastAtMs: null };
}

export function laterMs(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

/** Whether two day states say the same (the order of `lastTapMs` entries aside). */
export function sameDayState(a: CardDayState, b: CardDayState): boolean {
  const canonical = (s: CardDayState): string =>
    JSON.stringify([s.businessDate, s.transitChargedFen, s.lastLegStartMs, s.openJourney && [s.openJourney.entryStationId, s.openJourney.entryAtMs, s.openJourney.prevLegStartMs], Object.entries(s.lastTapMs).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))]);
  return canonical(a) === canonical(b);
}
