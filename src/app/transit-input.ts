// What a terminal sends for a tap, checked one record at a time (an offline upload must not lose
// its good records to one bad one), and the ids the transit use cases derive from a tap. Pure.
import type { TerminalContext } from './terminal.js';
import type { TapKind } from '../domain/fare/index.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { requestHash } from '../platform/hash.js';
import { businessDateOf } from '../domain/business-day.js';

/** The most taps one offline upload (/v1/taps/batch) may carry. */
export const tapsPerUploadMax = 1000;
/** How far a tap's time may be ahead of the server clock (reader clocks drift; more is an error). */
export const tapFutureSkewMsMax = 5 * 60_000;
/** The largest taxi meter amount accepted, fen (10,000 yuan). */
export const meterAmountMaxFen = 1_000_000n;

const tapIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
const cardNoPattern = /^[0-9]{1,19}$/;
// RFC 3339 with a zone: 2026-03-02T08:00:00+08:00, 2026-03-02T00:00:00.123Z
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** A tap as it reaches the use case: checked, with its kind from the terminal. */
export interface TapInput {
  tapId: string;
  cardNo: string;
  terminal: TerminalContext;
  kind: TapKind;
  at: Date;
  direction?: 'in' | 'out';
  meterAmountFen?: bigint;
  requestHash: string;
  /** From an offline upload: may overdraw the purse (DESIGN §2). */
  uploaded: boolean;
  /** Upload: the hotlist version the validator held when it uploaded (what it could have known). */
  hotlistVersion?: bigint;
  /** Set by the use case: an offline ride of a card now lost or blocked that is charged all the same. */
  despiteStatus?: boolean;
}

export type TapCheck = { ok: true; tap: TapInput } | { ok: false; tapId: string | null; code: ResponseCode; reason: string };

/** Date.parse rolls 2026-02-30 over to March: the fields must name a real day and time. */
function realCalendarTime(text: string): boolean {
  const [y, mo, d, h, mi, se] = [0, 5, 8, 11, 14, 17].map((i) => Number(text.slice(i, i + (i === 0 ? 4 : 2))));
  const probe = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo! - 1 && probe.getUTCDate() === d && probe.getUTCHours() === h && probe.getUTCMinutes() === mi && probe.getUTCSeconds() === se;
}

/** The instant of `tappedAt`, or why it is refused: not RFC 3339, or too far in the future. */
export function checkTappedAt(text: unknown, now: Date): { ok: true; at: Date } | { ok: false; reason: string } {
  if (typeof text !== 'string' || !rfc3339.test(text)) return { ok: false, reason: 'tappedAt must be an RFC 3339 date-time with a zone, e.g. 2026-03-02T08:00:00+08:00' };
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || !realCalendarTime(text)) return { ok: false, reason: `tappedAt ${text} is not a valid date-time` };
  const aheadMs = ms - now.getTime();
  if (aheadMs > tapFutureSkewMsMax) {
    return { ok: false, reason: `tappedAt is ${Math.round(aheadMs / 1000)} s ahead of the server clock (at most ${tapFutureSkewMsMax / 1000} s, tapFutureSkewMsMax)` };
  }
  return { ok: true, at: new Date(ms) };
}

const dayMs = 86_400_000;

/**
 * Why a tap is too old to charge (null: it is not): older than the policy's offline window
 * (`offlineUploadDaysMax`, of the policy in force now), or of a business day before the first fare
 * policy version. Code 12 per record; the rest of an upload goes on.
 */
export function tapAgeRefusal(at: Date, now: Date, limits: { offlineUploadDaysMax: number; firstEffectiveFrom: string }): string | null {
  const ageMs = now.getTime() - at.getTime();
  if (ageMs > limits.offlineUploadDaysMax * dayMs) {
    return `tappedAt is ${Math.floor(ageMs / dayMs)} days old: beyond the offline window of ${limits.offlineUploadDaysMax} days (offlineUploadDaysMax)`;
  }
  const date = businessDateOf(at);
  if (date < limits.firstEffectiveFrom) return `tappedAt is of business day ${date}, before the first fare policy (effective ${limits.firstEffectiveFrom})`;
  return null;
}

/** The tap kind a terminal makes: bus and taxi tap once; a gate needs a direction. null: not a transit terminal. */
export function tapKindOf(terminal: TerminalContext, direction: unknown): { ok: true; kind: TapKind } | { ok: false; code: ResponseCode; reason: string } {
  switch (terminal.kind) {
    case 'bus':
      return { ok: true, kind: 'bus' };
    case 'taxi':
      return { ok: true, kind: 'taxi' };
    case 'gate':
      if (direction === 'in') return { ok: true, kind: 'metro-in' };
      if (direction === 'out') return { ok: true, kind: 'metro-out' };
      return { ok: false, code: Code.formatError, reason: 'a metro gate tap needs direction "in" or "out"' };
    default:
      return { ok: false, code: Code.notPermittedTerminal, reason: `a ${terminal.kind} terminal does not take taps` };
  }
}

/** The idempotency fingerprint of a tap: the same tapId with another card, time, direction or amount is a conflict. */
export function tapRequestHash(t: { cardNo: string; terminalId: string; at: Date; direction?: string | undefined; meterAmountFen?: bigint | undefined }): string {
  return requestHash({ cardNo: t.cardNo, terminalId: t.terminalId, at: t.at.toISOString(), direction: t.direction, amount: t.meterAmountFen });
}

/**
 * Checks one tap record of a terminal. The HTTP schema has already checked a single tap's shape;
 * an upload's records are checked here one by one, so a malformed record is rejected (code 30)
 * without losing the rest.
 */
export function checkTapRecord(raw: unknown, terminal: TerminalContext, now: Date, uploaded: boolean): TapCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, tapId: null, code: Code.formatError, reason: 'a tap must be an object' };
  const r = raw as Record<string, unknown>;
  const tapId = typeof r.tapId === 'string' && tapIdPattern.test(r.tapId) ? r.tapId : null;
  const bad = (reason: string, code: ResponseCode = Code.formatError): TapCheck => ({ ok: false, tapId: tapId ?? (typeof r.tapId === 'string' ? r.tapId.slice(0, 64) : null), code, reason });
  const unknownField = Object.keys(r).find((k) => !['tapId', 'cardNo', 'tappedAt', 'direction', 'amount'].includes(k));
  if (unknownField !== undefined) return bad(`unknown field ${unknownField.slice(0, 40)}`);
  if (tapId === null) return bad('tapId must be 1–64 characters of A–Z a–z 0–9 . _ : -');
  if (typeof r.cardNo !== 'string' || !cardNoPattern.test(r.cardNo)) return bad('cardNo must be a string of 1–19 digits');
  if (r.direction !== undefined && r.direction !== 'in' && r.direction !== 'out') return bad('direction must be "in" or "out"');
  let meterAmountFen: bigint | undefined;
  if (r.amount !== undefined) {
    if (typeof r.amount !== 'number' || !Number.isSafeInteger(r.amount) || r.amount < 1) return bad('amount must be a positive integer number of fen');
    meterAmountFen = BigInt(r.amount);
    if (meterAmountFen > meterAmountMaxFen) return bad(`amount is above ${meterAmountMaxFen} fen`, Code.invalidAmount);
  }
  const when = checkTappedAt(r.tappedAt, now);
  if (!when.ok) return bad(when.reason);
  const kind = tapKindOf(terminal, r.direction);
  if (!kind.ok) return bad(kind.reason, kind.code);
  const direction = r.direction as 'in' | 'out' | undefined;
  const tap: TapInput = {
    tapId,
    cardNo: r.cardNo,
    terminal,
    kind: kind.kind,
    at: when.at,
    requestHash: tapRequestHash({ cardNo: r.cardNo, terminalId: terminal.terminalId, at: when.at, direction, meterAmountFen }),
    uploaded,
  };
  if (direction !== undefined) tap.direction = direction;
  if (meterAmountFen !== undefined) tap.meterAmountFen = meterAmountFen;
  return { ok: true, tap };
}

/**
 * A metro journey's id, derived from what identifies it (card, entry station and time; or exit
 * station and time when there was no tap-in), so that every path (online, re-rating, the
 * close-journeys job) names it the same, and no card number shows in it.
 */
export function journeyIdOf(cardNo: string, stationId: string, atMs: number, end: 'in' | 'out'): string {
  return `J${requestHash({ c: cardNo, s: stationId, t: atMs, e: end })}`;
}
