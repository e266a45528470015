// Re-rating a card's business day: the fare engine rates the day's accepted taps again (with a
// journey still open at the end charged when the day is closed), and the ledger books the
// DIFFERENCE from what the taps, earlier adjustments and journey closures charged, per operator:
// a 'journey-close' command (op id = the journey id: once per journey) for an open journey's
// maximum fare, and a 'fare-adjust' command for the rest (op id from the day's taps: the same day
// state books at most once). Afterwards booked = rated, so running it again books nothing.
import type { Authorizer, MoneyCommand } from './authorizer.js';
import type { LedgerLeg } from './ports.js';
import type { Pool } from '../adapters/postgres/db.js';
import { acceptedTapsOfDay, type StoredTap } from '../adapters/postgres/transit-taps.js';
import type { BookedAdjustments, JourneyRow, TransitStore } from '../adapters/postgres/transit-store.js';
import { rateDay, type DayRating, type MetroJourney, type Tap } from '../domain/fare/index.js';
import { businessDayBounds, shanghaiParts } from '../domain/business-day.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { maskCardNo } from '../domain/card-number.js';
import type { Logger } from '../platform/logger.js';
import { requestHash } from '../platform/hash.js';
import { journeyIdOf, type TapInput } from './transit-input.js';
import type { FarePolicies } from './transit-policies.js';

/** At most this many changed taps are named in an adjustment's explanation. */
export const adjustExplanationLinesMax = 20;

export interface DayContext {
  taps: StoredTap[];
  booked: BookedAdjustments;
  /** closeOpenJourneys ran for the day. */
  closedDay: boolean;
}

export interface ReconcileResult {
  journeyClosed: string | null;
  closedFen: bigint;
  adjustedFen: bigint;
  /** A booking the gate refused (e.g. 43 blocked card); left for the next run. */
  declined: ResponseCode | null;
}

export interface ReconcilerDeps {
  pool: Pool;
  authorizer: Authorizer;
  store: TransitStore;
  policies: FarePolicies;
  log: Logger;
  onDebt(cardNo: string): void;
}

export function engineTapOf(t: TapInput | StoredTap): Tap {
  if ('terminal' in t) {
    return { kind: t.kind, terminalId: t.terminal.terminalId, routeId: t.terminal.routeId ?? undefined, stationId: t.terminal.stationId ?? undefined, at: t.at, meterAmountFen: t.meterAmountFen };
  }
  return { kind: t.kind, terminalId: t.terminalId, routeId: t.routeId ?? undefined, stationId: t.stationId ?? undefined, at: t.tappedAt, meterAmountFen: t.kind === 'taxi' ? t.fareFen : undefined };
}

function journeyIdOfJourney(cardNo: string, j: MetroJourney): string {
  return j.entryStationId && j.entryAt ? journeyIdOf(cardNo, j.entryStationId, j.entryAt.getTime(), 'in') : journeyIdOf(cardNo, j.exitStationId ?? '', j.exitAt?.getTime() ?? 0, 'out');
}

/** The journeys of a rated day, for the journeys table. */
export function journeysOf(cardNo: string, businessDate: string, rated: DayRating): JourneyRow[] {
  const rows: JourneyRow[] = [];
  const push = (j: MetroJourney, fareFen: bigint): void => {
    rows.push({
      journeyId: journeyIdOfJourney(cardNo, j),
      cardNo,
      businessDate,
      entryStationId: j.entryStationId,
      entryAt: j.entryAt,
      exitStationId: j.exitStationId,
      exitAt: j.exitAt,
      status: j.status === 'complete' || j.status === 'same-station' ? 'complete' : 'incomplete',
      fareFen,
      distanceM: j.distanceM,
    });
  };
  for (const r of rated.results) if (r.ok && r.journey) push(r.journey, r.fareFen);
  if (rated.closing?.ok && rated.closing.journey) push(rated.closing.journey, rated.closing.fareFen);
  const open = rated.state?.openJourney;
  if (open) {
    rows.push({ journeyId: journeyIdOf(cardNo, open.entryStationId, open.entryAtMs, 'in'), cardNo, businessDate, entryStationId: open.entryStationId, entryAt: new Date(open.entryAtMs), exitStationId: null, exitAt: null, status: 'open', fareFen: 0n, distanceM: null });
  }
  return rows;
}

const add = (m: Map<string, bigint>, key: string | null, fen: bigint): void => {
  if (key === null || fen === 0n) return;
  m.set(key, (m.get(key) ?? 0n) + fen);
};

const hhmm = (at: Date): string => {
  const p = shanghaiParts(at);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
};

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async load(cardNo: string, businessDate: string): Promise<DayContext> {
    const [taps, booked, closedDay] = await Promise.all([
      acceptedTapsOfDay(this.deps.pool, [cardNo], businessDate),
      this.deps.store.booked([cardNo], businessDate),
      this.deps.store.isClosedDay(businessDate),
    ]);
    return { taps: taps.get(cardNo) ?? [], booked: booked.get(cardNo) ?? { byOperator: new Map(), journeyCloses: new Set() }, closedDay };
  }

  /** A day is closed once the close-journeys job ran for it or one of its journeys was closed (a tap on a later day). */
  closeOptions(day: DayContext, businessDate: string, force = false): { closeAt?: Date } {
    const closed = force || day.closedDay || day.booked.journeyCloses.size > 0;
    return closed ? { closeAt: businessDayBounds(businessDate).end } : {};
  }

  async reconcile(cardNo: string, cardType: string, businessDate: string, options: { close?: boolean; collect?: JourneyRow[] } = {}): Promise<ReconcileResult> {
    return this.reconcileLoaded(cardNo, cardType, businessDate, await this.load(cardNo, businessDate), options.close ?? false, options.collect);
  }

  /**
   * Books the difference between the day as rated now and what was charged. `close` closes the day
   * (an open journey is charged). The journeys of a closed day are written, or added to `collect`.
   */
  async reconcileLoaded(cardNo: string, cardType: string, businessDate: string, day: DayContext, close: boolean, collect?: JourneyRow[]): Promise<ReconcileResult> {
    const result: ReconcileResult = { journeyClosed: null, closedFen: 0n, adjustedFen: 0n, declined: null };
    if (day.taps.length === 0) return result;
    const policy = this.deps.policies.forDate(businessDate);
    const closeAt = this.closeOptions(day, businessDate, close);
    const rated = rateDay(policy, { cardType: cardType as never }, day.taps.map(engineTapOf), closeAt);
    const charged = new Map(day.booked.byOperator);
    const target = new Map<string, bigint>();
    const changes: string[] = [];
    day.taps.forEach((tap, i) => {
      const r = rated.results[i]!;
      add(charged, tap.operatorId, tap.fareFen);
      const now = r.ok ? r.fareFen : 0n;
      if (r.ok) add(target, r.operatorId ?? tap.operatorId, r.fareFen);
      if (now !== tap.fareFen) changes.push(`${tap.kind} ${hhmm(tap.tappedAt)} (${tap.tapId}): charged ${tap.fareFen}, re-rated ${now}: ${r.ok ? r.explanation.join('; ') : r.reason}`);
    });
    const closing = rated.closing;
    if (closing?.ok && closing.journey) {
      const journeyId = journeyIdOfJourney(cardNo, closing.journey);
      const operatorId = closing.operatorId ?? policy.metro.operatorId;
      add(target, operatorId, closing.fareFen);
      result.journeyClosed = journeyId;
      if (closing.fareFen > 0n && !day.booked.journeyCloses.has(journeyId)) {
        const code = await this.book(cardNo, businessDate, 'journey-close', journeyId, [{ operatorId, fen: closing.fareFen }], {
          mode: 'metro',
          journeyId,
          entryStationId: closing.journey.entryStationId,
          entryAt: closing.journey.entryAt?.toISOString() ?? null,
          fare: closing.fareFen.toString(),
          explanation: closing.explanation,
        });
        if (code === null) {
          add(charged, operatorId, closing.fareFen);
          result.closedFen = closing.fareFen;
        } else result.declined = code;
      }
    }
    const diffs: { operatorId: string; fen: bigint }[] = [];
    for (const operatorId of new Set([...charged.keys(), ...target.keys()])) {
      const fen = (target.get(operatorId) ?? 0n) - (charged.get(operatorId) ?? 0n);
      if (fen !== 0n) diffs.push({ operatorId, fen });
    }
    if (diffs.length > 0) {
      // The op id names this day's state (its taps and journey closures): the same state books once.
      const closes = [...day.booked.journeyCloses, ...(result.closedFen > 0n && result.journeyClosed ? [result.journeyClosed] : [])].sort();
      const opId = `${businessDate}:${requestHash({ c: cardNo, taps: day.taps.map((t) => t.tapId).sort(), closes, closed: closeAt.closeAt !== undefined })}`;
      const net = diffs.reduce((sum, d) => sum + d.fen, 0n);
      const lines = changes.slice(0, adjustExplanationLinesMax);
      if (changes.length > lines.length) lines.push(`… and ${changes.length - lines.length} more taps`);
      if (closing?.ok && closing.journey && closing.fareFen > 0n) lines.push(`journey ${result.journeyClosed} closed: ${closing.explanation.join('; ')}`);
      const code = await this.book(cardNo, businessDate, 'fare-adjust', opId, diffs, {
        mode: 'transit',
        fare: net.toString(),
        explanation: [`re-rated ${businessDate} (${day.taps.length} taps${closeAt.closeAt ? ', day closed' : ''}): ${net >= 0n ? 'charged' : 'refunded'} ${net >= 0n ? net : -net}`, ...lines],
        adjustments: Object.fromEntries(diffs.map((d) => [d.operatorId, d.fen.toString()])),
      });
      if (code === null) result.adjustedFen = net;
      else result.declined = code;
    }
    if (closeAt.closeAt) {
      const rows = journeysOf(cardNo, businessDate, rated);
      if (collect) collect.push(...rows);
      else await this.deps.store.writeJourneys([{ cardNo, businessDate }], rows);
    }
    return result;
  }

  /** Books fen per operator between the purse and the operators' receivables (+ charges the card, - refunds it). */
  private async book(cardNo: string, businessDate: string, opKind: 'journey-close' | 'fare-adjust', opId: string, amounts: { operatorId: string; fen: bigint }[], detail: Record<string, unknown>): Promise<ResponseCode | null> {
    const legs: LedgerLeg[] = amounts.map(({ operatorId, fen }) =>
      fen > 0n
        ? { debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'receivable', ownerId: operatorId }, amountFen: fen }
        : { debit: { kind: 'receivable', ownerId: operatorId }, credit: { kind: 'purse', ownerId: cardNo }, amountFen: -fen },
    );
    const net = amounts.reduce((sum, a) => sum + a.fen, 0n);
    const cmd: MoneyCommand = {
      opKind,
      opId,
      requestHash: requestHash({ cardNo, businessDate, amounts: amounts.map((a) => [a.operatorId, a.fen]) }),
      cardNo,
      terminalId: null,
      businessDate,
      // A correction of rides already taken: it may overdraw the purse (DESIGN §2), whatever the card's state.
      gate: net >= 0n ? { type: 'debit', purseFen: net, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: true, ignoreCardStatus: true } : { type: 'credit', purseFen: -net, medicalFen: 0n, dailyGiveBackFen: 0n, requireActive: false },
      legs,
      detail,
      reply: (ids, purse) => ({ balance: purse.toString(), transactionId: ids[0]?.toString() ?? null }),
    };
    const outcome = await this.deps.authorizer.execute(cmd);
    if (outcome.kind === 'approved') {
      if (BigInt(String(outcome.reply.balance ?? '0')) < 0n) this.deps.onDebt(cardNo);
      return null;
    }
    const code = outcome.kind === 'conflict' ? Code.duplicateDifferent : outcome.code;
    this.deps.log.warn({ card: maskCardNo(cardNo), opKind, opId, code }, 'transit adjustment not booked');
    return code;
  }
}
