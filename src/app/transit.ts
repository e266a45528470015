// Transit use cases (DESIGN §5, §7; docs/transit.md): online taps, offline uploads, the readers'
// hotlist, and the end-of-day closing of open metro journeys. Each card's taps run one at a time
// (in this process; across processes the gate's fare-state check keeps ratings consistent).
import type { TerminalContext } from './terminal.js';
import { CardTransit, type CardTransitDeps, type TapAnswer } from './transit-card.js';
import { checkTapRecord, tapAgeRefusal, tapsPerUploadMax, type TapInput } from './transit-input.js';
import type { Hotlist, HotlistChange } from '../adapters/postgres/hotlist.js';
import { insertRejectedTaps, tapsById } from '../adapters/postgres/transit-taps.js';
import type { JourneyRow } from '../adapters/postgres/transit-store.js';
import type { TapRow } from './ports.js';
import { businessDateOf } from '../domain/business-day.js';
import { isValidCardNo, maskCardNo } from '../domain/card-number.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { assert } from '../platform/assert.js';
import { KeyedMutex } from '../platform/mutex.js';

export { tapsPerUploadMax, tapFutureSkewMsMax } from './transit-input.js';
export { tapRetriesMax } from './transit-card.js';
export type { TapAnswer } from './transit-card.js';

/** Cards of one upload charged side by side (each card's own taps stay in time order). */
export const uploadCardsParallelMax = 32;
/** closeOpenJourneys reads the day's metro cards in pages of this many. */
export const closeCardsPageMax = 500;
export const closeCardsParallelMax = 8;

/** Rejections that are final for the tap (stored for a re-upload); others (96, 91, 94, 30) are not. */
const finalRejections = new Set<string>(['05', '12', '13', '14', '41', '43', '51', '54', '65']);

export interface UploadResult {
  tapId: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  code: ResponseCode;
  fareFen: bigint;
  reason?: string;
}

export interface CloseJourneysReport {
  businessDate: string;
  cards: number;
  journeysClosed: number;
  closedFen: number;
  adjustments: number;
  adjustedFen: number;
  declined: number;
}

export type TransitDeps = Omit<CardTransitDeps, 'onDebt'> & { hotlist: Hotlist };

const modeOf = (kind: TapInput['kind']): TapRow['mode'] => (kind === 'bus' ? 'bus' : kind === 'taxi' ? 'taxi' : 'metro');

const conflictResult = (tapId: string): UploadResult => ({ tapId, status: 'rejected', code: Code.duplicateDifferent, fareFen: 0n, reason: 'this tapId was used before with different content' });

function uploadResult(tapId: string, a: TapAnswer): UploadResult {
  if (a.status === 'conflict') return conflictResult(tapId);
  if (a.status === 'rejected') return { tapId, status: 'rejected', code: a.code, fareFen: 0n, ...(a.reason ? { reason: a.reason } : {}) };
  return { tapId, status: a.replayed ? 'duplicate' : 'accepted', code: Code.approved, fareFen: a.fareFen };
}

function rejectedRow(t: TapInput, code: string, reason: string): TapRow {
  return {
    tapId: t.tapId,
    cardNo: t.cardNo,
    terminalId: t.terminal.terminalId,
    operatorId: t.terminal.operatorId,
    mode: modeOf(t.kind),
    kind: t.kind,
    routeId: t.kind === 'bus' ? t.terminal.routeId : null,
    stationId: t.kind === 'metro-in' || t.kind === 'metro-out' ? t.terminal.stationId : null,
    tappedAt: t.at,
    businessDate: businessDateOf(t.at),
    fareFen: 0n,
    status: 'rejected',
    code,
    journeyId: null,
    explanation: [reason],
    uploaded: true,
    requestHash: t.requestHash,
  };
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export class TransitService {
  readonly card: CardTransit;
  private readonly perCard = new KeyedMutex();
  private readonly debt = new Set<string>();

  constructor(private readonly deps: TransitDeps) {
    this.card = new CardTransit({ ...deps, onDebt: (cardNo) => this.debt.add(cardNo) });
  }

  /** One online tap. `invalid` is a request error (HTTP 400): bad time, gate without direction. */
  async tap(terminal: TerminalContext, raw: unknown): Promise<{ kind: 'answer'; answer: TapAnswer } | { kind: 'invalid'; reason: string }> {
    const checked = checkTapRecord(raw, terminal, this.deps.clock.now(), false);
    if (!checked.ok) {
      if (checked.code === Code.formatError) return { kind: 'invalid', reason: checked.reason };
      return { kind: 'answer', answer: { status: 'rejected', replayed: false, code: checked.code, fareFen: 0n, balanceFen: null, journeyId: null, explanation: [], reason: checked.reason } };
    }
    const t = checked.tap;
    const tooOld = this.ageRefusal(t, this.deps.clock.now());
    if (tooOld) return { kind: 'answer', answer: { status: 'rejected', replayed: false, code: Code.invalidTransaction, fareFen: 0n, balanceFen: null, journeyId: null, explanation: [], reason: tooOld } };
    if (!isValidCardNo(t.cardNo)) return { kind: 'answer', answer: { status: 'rejected', replayed: false, code: Code.invalidCard, fareFen: 0n, balanceFen: null, journeyId: null, explanation: [], reason: 'invalid card number' } };
    return { kind: 'answer', answer: await this.onCard(t.cardNo, () => this.card.processTap(t)) };
  }

  /**
   * An offline upload: every record answered in input order; each card's taps charged in
   * `tappedAt` order, allowed to overdraw the purse; a card left in debt joins the hotlist.
   */
  async upload(terminal: TerminalContext, records: readonly unknown[], options: { hotlistVersion?: bigint } = {}): Promise<UploadResult[]> {
    assert(records.length <= tapsPerUploadMax, `an upload holds at most ${tapsPerUploadMax} taps`);
    const now = this.deps.clock.now();
    const results = new Array<UploadResult>(records.length);
    const checked = records.map((raw) => checkTapRecord(raw, terminal, now, true));
    const firstIndex = new Map<string, number>();
    const repeats: { index: number; first: number }[] = [];
    const fresh: { index: number; tap: TapInput }[] = [];
    checked.forEach((c, index) => {
      if (!c.ok) {
        results[index] = { tapId: c.tapId, status: 'rejected', code: c.code, fareFen: 0n, reason: c.reason };
        return;
      }
      if (options.hotlistVersion !== undefined) c.tap.hotlistVersion = options.hotlistVersion;
      const tooOld = this.ageRefusal(c.tap, now);
      if (tooOld) {
        results[index] = { tapId: c.tap.tapId, status: 'rejected', code: Code.invalidTransaction, fareFen: 0n, reason: tooOld };
        return;
      }
      const first = firstIndex.get(c.tap.tapId);
      if (first !== undefined) repeats.push({ index, first });
      else {
        firstIndex.set(c.tap.tapId, index);
        fresh.push({ index, tap: c.tap });
      }
    });
    const known = await tapsById(this.deps.pool, terminal.terminalId, fresh.map((f) => f.tap.tapId));
    const rejectedRows: TapRow[] = [];
    const byCard = new Map<string, { index: number; tap: TapInput }[]>();
    for (const f of fresh) {
      const stored = known.get(f.tap.tapId);
      if (stored) {
        results[f.index] =
          stored.requestHash !== f.tap.requestHash
            ? conflictResult(f.tap.tapId)
            : stored.status === 'rejected'
              ? { tapId: f.tap.tapId, status: 'rejected', code: stored.code as ResponseCode, fareFen: 0n, reason: stored.explanation[0] ?? 'rejected' }
              : { tapId: f.tap.tapId, status: 'duplicate', code: Code.approved, fareFen: stored.fareFen };
      } else if (!isValidCardNo(f.tap.cardNo)) {
        results[f.index] = { tapId: f.tap.tapId, status: 'rejected', code: Code.invalidCard, fareFen: 0n, reason: 'invalid card number' };
        rejectedRows.push(rejectedRow(f.tap, Code.invalidCard, 'invalid card number'));
      } else {
        const list = byCard.get(f.tap.cardNo) ?? [];
        list.push(f);
        byCard.set(f.tap.cardNo, list);
      }
    }
    await inParallel([...byCard.entries()], uploadCardsParallelMax, async ([cardNo, taps]) => {
      taps.sort((a, b) => a.tap.at.getTime() - b.tap.at.getTime() || a.index - b.index);
      await this.onCard(cardNo, async () => {
        for (const { index, tap } of taps) {
          const answer = await this.card.processTap(tap);
          results[index] = uploadResult(tap.tapId, answer);
          if (answer.status === 'rejected' && !answer.replayed && finalRejections.has(answer.code)) rejectedRows.push(rejectedRow(tap, answer.code, answer.reason ?? 'rejected'));
        }
      });
    });
    await insertRejectedTaps(this.deps.pool, rejectedRows);
    // Rides the validator let through although its hotlist already listed the card: refused, and
    // counted per validator (the rejected rows keep terminal and code) so that operations can see
    // a reader that does not refresh its hotlist.
    const refused = rejectedRows.filter((r) => r.code === Code.lostCard || r.code === Code.blockedCard).length;
    if (refused > 0) this.deps.log.warn({ terminalId: terminal.terminalId, refused, hotlistVersion: options.hotlistVersion?.toString() ?? null }, 'offline taps of hot-listed cards refused');
    for (const { index, first } of repeats) {
      const a = checked[index]!;
      const f = checked[first]!;
      const firstResult = results[first]!;
      results[index] =
        a.ok && f.ok && a.tap.requestHash !== f.tap.requestHash
          ? conflictResult(a.tap.tapId)
          : firstResult.status === 'rejected'
            ? firstResult
            : { ...firstResult, status: 'duplicate' };
    }
    return results;
  }

  /** Why a tap is too old to be charged, by the policy in force now (tapAgeRefusal); null when it is not. */
  private ageRefusal(t: TapInput, now: Date): string | null {
    const first = this.deps.policies.versions()[0];
    const current = this.deps.policies.forDate(businessDateOf(now));
    return tapAgeRefusal(t.at, now, { offlineUploadDaysMax: current.offlineUploadDaysMax, firstEffectiveFrom: first?.effectiveFrom ?? '0000-01-01' });
  }

  /** Loads fare policy versions stored since (scripts/import-gtfs.ts); a server also does it every policyRefreshMs. */
  async reloadPolicies(): Promise<void> {
    await this.deps.policies.reload();
  }

  async hotlist(since: bigint): Promise<{ version: bigint; changes: HotlistChange[]; more: boolean }> {
    return this.deps.hotlist.since(since);
  }

  /** After a top-up: a card brought out of debt is cleared from the hotlist (only if it was listed for debt). */
  async afterTopup(cardNo: string, amountFen: bigint, balanceFen: bigint): Promise<void> {
    if (balanceFen >= 0n && balanceFen - amountFen < 0n) await this.deps.store.clearDebtListing(cardNo);
  }

  /**
   * End of a business day (the close-journeys job): the day is marked closed, and every card with
   * metro taps that day is re-rated with its open journey (if any) charged the maximum fare from
   * its entry station, once per journey (op id = journey id); its journeys are written to `journeys`.
   * Idempotent: a second run books nothing.
   */
  async closeOpenJourneys(businessDate: string): Promise<CloseJourneysReport> {
    assert(/^\d{4}-\d{2}-\d{2}$/.test(businessDate), 'businessDate is YYYY-MM-DD');
    await this.deps.store.closeDay(businessDate);
    const report: CloseJourneysReport = { businessDate, cards: 0, journeysClosed: 0, closedFen: 0, adjustments: 0, adjustedFen: 0, declined: 0 };
    let after = '';
    while (true) {
      const cards = await this.deps.store.metroCards(businessDate, after, closeCardsPageMax);
      if (cards.length === 0) break;
      const types = await this.deps.store.cardTypes(cards);
      const journeys: JourneyRow[] = [];
      await inParallel(cards, closeCardsParallelMax, (cardNo) =>
        this.onCard(cardNo, async () => {
          const r = await this.card.reconciler.reconcile(cardNo, types.get(cardNo) ?? 'adult', businessDate, { close: true, collect: journeys });
          // The card's Redis day state may still hold the journey as open: the next tap rebuilds it.
          if (r.journeyClosed) await this.deps.redis.del(this.deps.keys.cardFare(cardNo));
          report.cards++;
          if (r.closedFen > 0n) {
            report.journeysClosed++;
            report.closedFen += Number(r.closedFen);
          }
          if (r.adjustedFen !== 0n) {
            report.adjustments++;
            report.adjustedFen += Number(r.adjustedFen);
          }
          if (r.declined) report.declined++;
        }),
      );
      await this.deps.store.writeJourneys(cards.map((cardNo) => ({ cardNo, businessDate })), journeys);
      after = cards[cards.length - 1]!;
    }
    this.deps.log.info(report, 'open journeys closed');
    return report;
  }

  /** Runs work on one card at a time, then lists the card on the hotlist if it was left in debt. */
  private async onCard<T>(cardNo: string, work: () => Promise<T>): Promise<T> {
    return this.perCard.run(cardNo, async () => {
      try {
        return await work();
      } finally {
        if (this.debt.delete(cardNo)) {
          await this.deps.hotlist.record(cardNo, true, 'debt').catch((error: unknown) => this.deps.log.error({ err: error, card: maskCardNo(cardNo) }, 'could not list a card in debt'));
        }
      }
    });
  }
}
