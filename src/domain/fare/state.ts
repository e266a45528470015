// Per-card, per-business-day transit state: what the fare rules remember between taps. It is stored
// in Redis as JSON, so it holds only strings, numbers and null (fen as decimal strings, times as epoch ms).

export interface OpenJourney {
  entryStationId: string;
  entryAtMs: number;
  /** Start of the paid leg before this one, as it was at tap-in: decides the transfer discount at tap-out. */
  prevLegStartMs: number | null;
}

export interface CardDayState {
  /** YYYY-MM-DD; the business day runs 04:00–04:00 Asia/Shanghai. */
  businessDate: string;
  /** Transit fares charged this business day (for the daily cap), fen as a decimal string. */
  transitChargedFen: string;
  /** Start of the previous paid leg (bus tap or metro tap-in), for the transfer window. */
  lastLegStartMs: number | null;
  openJourney: OpenJourney | null;
  /** terminalId → time of the last accepted tap there (anti-passback); entries older than every window are dropped. */
  lastTapMs: Record<string, number>;
}

export function emptyDayState(businessDate: string): CardDayState {
  return { businessDate, transitChargedFen: '0', lastLegStartMs: null, openJourney: null, lastTapMs: {} };
}

const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isMsOrNull = (v: unknown): v is number | null => v === null || isMs(v);

/** Checks a state read back from storage; null when it is not one (the caller then starts the day fresh or alarms). */
export function parseCardDayState(json: unknown): CardDayState | null {
  if (typeof json !== 'object' || json === null) return null;
  const s = json as Record<string, unknown>;
  if (typeof s.businessDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s.businessDate)) return null;
  if (typeof s.transitChargedFen !== 'string' || !/^\d+$/.test(s.transitChargedFen)) return null;
  if (!isMsOrNull(s.lastLegStartMs)) return null;
  const j = s.openJourney as Record<string, unknown> | null | undefined;
  if (j !== null && (typeof j !== 'object' || typeof j.entryStationId !== 'string' || !isMs(j.entryAtMs) || !isMsOrNull(j.prevLegStartMs))) return null;
  if (typeof s.lastTapMs !== 'object' || s.lastTapMs === null || !Object.values(s.lastTapMs).every(isMs)) return null;
  return {
    businessDate: s.businessDate,
    transitChargedFen: s.transitChargedFen,
    lastLegStartMs: s.lastLegStartMs,
    openJourney: j === null ? null : { entryStationId: j.entryStationId as string, entryAtMs: j.entryAtMs as number, prevLegStartMs: j.prevLegStartMs as number | null },
    lastTapMs: { ...(s.lastTapMs as Record<string, number>) },
  };
}
