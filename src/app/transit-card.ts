// One card's taps: rates a tap against the card's day state in Redis (the fast path: taps in time
// order), or re-rates the tap's whole day from the taps table when it is late or of an earlier
// day (the slow path), charges it through the Authorizer with the fare state checked and set by the
// gate, and books what re-rating changes for the other taps (transit-reconcile.ts). The caller
// (TransitService) runs one card at a time.
import type { Authorizer, MoneyCommand, MoneyOutcome } from './authorizer.js';
import type { CardSource, OpRecord, TapRow } from './ports.js';
import type { CardGate } from '../adapters/redis/card-gate.js';
import type { CardRedis } from '../adapters/redis/client.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import { acceptedTapsOfDay, tapsById, type StoredTap } from '../adapters/postgres/transit-taps.js';
import type { Pool } from '../adapters/postgres/db.js';
import type { TransitStore } from '../adapters/postgres/transit-store.js';
import { cutoverExitMsMax, rateDay, rateTap, tapBusinessDate, type Charged, type Declined, type FarePolicy } from '../domain/fare/index.js';
import { businessDateOf, businessDayBounds } from '../domain/business-day.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { maskCardNo } from '../domain/card-number.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { journeyIdOf, type TapInput } from './transit-input.js';
import { decodeFareState, encodeFareState, freshDay, laterMs, sameDayState, type FareState } from './transit-state.js';
import type { FarePolicies } from './transit-policies.js';
import { Reconciler, engineTapOf, type DayContext } from './transit-reconcile.js';

export const tapOpKind = 'tap';
/** How often a tap is re-rated when its card's fare state changed between rating and the gate. */
export const tapRetriesMax = 5;
/** A late tap waits at most this often, this long, for another process's tap of the card to commit. */
export const slowPathWaitsMax = 3;
export const slowPathWaitMs = 10;
/** How long a tap waits for the same tap still being committed (a retransmission). */
export const pendingTapWaitMsMax = 5_000;

export interface TapAnswer {
  status: 'accepted' | 'rejected' | 'conflict';
  /** The first answer of a tap seen before (a retransmission or a re-upload). */
  replayed: boolean;
  code: ResponseCode;
  fareFen: bigint;
  balanceFen: bigint | null;
  journeyId: string | null;
  explanation: string[];
  reason?: string;
}

export interface CardTransitDeps {
  pool: Pool;
  redis: CardRedis;
  keys: RedisKeys;
  gate: CardGate;
  authorizer: Authorizer;
  cards: CardSource;
  store: TransitStore;
  policies: FarePolicies;
  clock: Clock;
  log: Logger;
  /** Called when a command leaves the purse below zero (offline uploads, adjustments). */
  onDebt(cardNo: string): void;
  /** The registry area's: a cached type past its `typeUntil` is recomputed before rating (none: kept). */
  typeRefresh?: CardTypeRefresh | null;
}

interface CachedCard {
  status: string;
  cardType: string;
  expiresOn: string | null;
  /** The business date from which the card type must be recomputed (registry: a birthday), or null. */
  typeUntil: string | null;
}

/** Recomputes a card's type (the registry's concession) into its cached state; set by the registry area. */
export type CardTypeRefresh = (cardNo: string) => Promise<void>;

const rejected = (code: ResponseCode, reason: string, replayed = false): TapAnswer => ({ status: 'rejected', replayed, code, fareFen: 0n, balanceFen: null, journeyId: null, explanation: [], reason });
const conflict = (): TapAnswer => ({ status: 'conflict', replayed: false, code: Code.duplicateDifferent, fareFen: 0n, balanceFen: null, journeyId: null, explanation: [] });

function fromStored(t: { requestHash: string }, s: StoredTap): TapAnswer {
  if (s.requestHash !== t.requestHash) return conflict();
  if (s.status === 'rejected') return rejected(s.code as ResponseCode, s.explanation[0] ?? 'rejected', true);
  return { status: 'accepted', replayed: true, code: Code.approved, fareFen: s.fareFen, balanceFen: s.balanceFen, journeyId: s.journeyId, explanation: s.explanation };
}

/** The metro journey a tap opened or ended, and the one a tap-in closed as incomplete. */
function journeyIds(cardNo: string, r: Charged): { journeyId: string | null; closedJourneyId: string | null } {
  const j = r.journey;
  const jid = j ? (j.entryStationId && j.entryAt ? journeyIdOf(cardNo, j.entryStationId, j.entryAt.getTime(), 'in') : journeyIdOf(cardNo, j.exitStationId ?? '', j.exitAt?.getTime() ?? 0, 'out')) : null;
  const open = r.state.openJourney;
  if (open && j?.status === 'no-tap-out') return { journeyId: journeyIdOf(cardNo, open.entryStationId, open.entryAtMs, 'in'), closedJourneyId: jid };
  if (open && !j) return { journeyId: journeyIdOf(cardNo, open.entryStationId, open.entryAtMs, 'in'), closedJourneyId: null };
  return { journeyId: jid, closedJourneyId: null };
}

export class CardTransit {
  readonly reconciler: Reconciler;
  private readonly typeRefresh: CardTypeRefresh | null;
  private readonly closedDays = new Set<string>();
  private readonly lateDays = new Set<string>();

  constructor(private readonly deps: CardTransitDeps) {
    this.reconciler = new Reconciler(deps);
    this.typeRefresh = deps.typeRefresh ?? null;
  }

  /** Rates and charges one tap. The caller holds the card's lock. */
  async processTap(t: TapInput): Promise<TapAnswer> {
    const ownDate = businessDateOf(t.at);
    const today = businessDateOf(this.deps.clock.now());
    for (let attempt = 0; attempt <= tapRetriesMax; attempt++) {
      const snap = await this.read(t);
      if (snap.record) {
        const answer = await this.fromRecord(t, snap.record);
        if (answer) return answer;
        continue; // the earlier attempt was undone: rate anew
      }
      if (!snap.card) {
        const loaded = await this.deps.gate.loadFrom(t.cardNo, () => this.deps.cards.snapshot(t.cardNo, businessDateOf(this.deps.clock.now())));
        if (loaded === 'unknown') return this.decline(t, Code.invalidCard, 'unknown card');
        continue;
      }
      const statusCode = snap.card.status === 'lost' ? Code.lostCard : snap.card.status !== 'active' ? Code.blockedCard : snap.card.expiresOn !== null && snap.card.expiresOn < ownDate ? Code.expiredCard : null;
      if (statusCode && !(await this.rodeBeforeKnown(t, statusCode))) return this.decline(t, statusCode, `card is ${statusCode === Code.expiredCard ? 'expired' : snap.card.status}`);
      if (statusCode) t = { ...t, despiteStatus: true };
      if (this.typeRefresh && snap.card.typeUntil && snap.card.typeUntil <= businessDateOf(this.deps.clock.now())) {
        await this.typeRefresh(t.cardNo);
        continue;
      }
      const stored = decodeFareState(snap.fareRaw);
      const businessDate = await this.tapDate(t, snap.card.cardType, stored);
      const policy = this.deps.policies.forDate(businessDate);
      // A tap of a day already closed (close-journeys ran) always re-rates the whole day: a late
      // tap-out then ends the journey the job charged the maximum, a late tap-in is closed now.
      const closedDay = businessDate < today && (await this.isClosedDay(businessDate));
      if (businessDate < today) await this.markLateDay(businessDate);
      if (stored && stored.state.businessDate < businessDate && stored.state.openJourney) {
        // A new day while yesterday's journey is open: it is closed on its own day first (DESIGN §7).
        await this.reconciler.reconcile(t.cardNo, snap.card.cardType, stored.state.businessDate, { close: true });
        await this.deps.redis.del(this.deps.keys.cardFare(t.cardNo));
        continue;
      }
      const base: FareState = stored ? (stored.state.businessDate < businessDate ? freshDay(businessDate) : stored) : await this.rebuild(t.cardNo, snap.card.cardType, businessDate);
      const expectedVersion = stored?.version ?? '';
      const inOrder = !closedDay && base.state.businessDate === businessDate && (base.lastAtMs === null || t.at.getTime() >= base.lastAtMs);
      const outcome = inOrder
        ? await this.fastPath(t, policy, snap.card.cardType, base, { expectedVersion, previous: snap.fareRaw })
        : await this.slowPath(t, policy, snap.card.cardType, businessDate, base, { expectedVersion, previous: snap.fareRaw });
      if (outcome !== 'stale') return outcome;
    }
    this.deps.log.warn({ card: maskCardNo(t.cardNo), tapId: t.tapId }, 'tap not charged: the card fare state kept changing');
    return rejected(Code.systemMalfunction, 'the card fare state kept changing; retry');
  }

  /**
   * The business date of a tap: its own, except a metro tap-out just after 04:00 that ends a journey
   * the card opened before 04:00 (the cut-over rule, tapBusinessDate): that one belongs to the
   * journey's day. The open journey is the Redis state's, or (state gone, e.g. the day was closed)
   * the one the previous day's taps leave open.
   */
  private async tapDate(t: TapInput, cardType: string, stored: FareState | null): Promise<string> {
    const own = businessDateOf(t.at);
    const start = businessDayBounds(own).start.getTime();
    if (t.kind !== 'metro-out' || t.at.getTime() - start > cutoverExitMsMax) return own;
    const previous = businessDateOf(new Date(start - 1));
    if (stored && stored.state.businessDate === previous) return tapBusinessDate(stored.state, engineTapOf(t));
    if (stored && stored.state.businessDate >= own) return own;
    const day = await this.reconciler.load(t.cardNo, previous);
    if (day.taps.length === 0) return own;
    const rated = rateDay(this.deps.policies.forDate(previous), { cardType: cardType as never }, day.taps.map(engineTapOf));
    return tapBusinessDate(rated.state, engineTapOf(t));
  }

  /**
   * An offline tap of a card now lost or blocked is a ride its owner took when it was made before
   * the report, or when the validator's hotlist (its version at upload) did not list it yet.
   */
  private async rodeBeforeKnown(t: TapInput, statusCode: ResponseCode): Promise<boolean> {
    if (!t.uploaded || (statusCode !== Code.lostCard && statusCode !== Code.blockedCard)) return false;
    const listing = await this.deps.store.statusListing(t.cardNo);
    if (!listing) return false;
    return t.at.getTime() < listing.changedAt.getTime() || (t.hotlistVersion !== undefined && t.hotlistVersion < listing.version);
  }

  /** Closed days stay closed: a positive answer is kept. */
  private async isClosedDay(businessDate: string): Promise<boolean> {
    if (this.closedDays.has(businessDate)) return true;
    const closed = await this.deps.store.isClosedDay(businessDate);
    if (closed) this.closedDays.add(businessDate);
    return closed;
  }

  /** A posting on an earlier business date: clearing catches that date up (late_postings). */
  private async markLateDay(businessDate: string): Promise<void> {
    if (this.lateDays.has(businessDate)) return;
    await this.deps.store.markLateDay(businessDate);
    this.lateDays.add(businessDate);
  }

  private async fastPath(t: TapInput, policy: FarePolicy, cardType: string, base: FareState, cas: { expectedVersion: string; previous: string | null }): Promise<TapAnswer | 'stale'> {
    const r = rateTap(policy, { cardType: cardType as never }, base.state, engineTapOf(t));
    if (!r.ok) return this.engineDecline(t, r);
    const next = encodeFareState({ state: r.state, lastAtMs: laterMs(base.lastAtMs, t.at.getTime()) });
    return this.charge(t, r, r.explanation, { expectedVersion: cas.expectedVersion, next: next.raw, previous: cas.previous });
  }

  /** A late tap, or one of an earlier day: re-rate its day with it, charge it, book the rest's difference. */
  private async slowPath(t: TapInput, policy: FarePolicy, cardType: string, businessDate: string, base: FareState, cas: { expectedVersion: string; previous: string | null }): Promise<TapAnswer | 'stale'> {
    const sameDay = base.state.businessDate === businessDate;
    let day = await this.reconciler.load(t.cardNo, businessDate);
    // The Redis state already counts every tap of the day; when the taps table does not yet show
    // them all, another process has one in flight: give its commit a moment (bounded), so that the
    // re-rating does not leave it out.
    for (let wait = 0; sameDay && wait < slowPathWaitsMax; wait++) {
      const known = rateDay(policy, { cardType: cardType as never }, day.taps.filter((s) => !sameTap(s, t)).map(engineTapOf), this.reconciler.closeOptions(day, businessDate)).state;
      if (known && sameDayState(known, base.state)) break;
      await new Promise((resolve) => setTimeout(resolve, slowPathWaitMs));
      day = await this.reconciler.load(t.cardNo, businessDate);
    }
    const earlier = day.taps.filter((s) => !sameTap(s, t));
    const rated = rateDay(policy, { cardType: cardType as never }, [...earlier.map(engineTapOf), engineTapOf(t)], this.reconciler.closeOptions(day, businessDate));
    const r = rated.results[earlier.length]!;
    if (!r.ok) return this.engineDecline(t, r);
    const fare = sameDay
      ? { expectedVersion: cas.expectedVersion, next: encodeFareState({ state: rated.state ?? r.state, lastAtMs: laterMs(base.lastAtMs, t.at.getTime()) }).raw, previous: cas.previous }
      : undefined;
    const explanation = [...r.explanation, `re-rated with the ${earlier.length} earlier accepted taps of ${businessDate} (late tap)`];
    const answer = await this.charge(t, r, explanation, fare);
    if (answer !== 'stale' && answer.status === 'accepted' && !answer.replayed) {
      const charged: StoredTap = { ...storedOf(t, r, answer), explanation };
      await this.reconciler.reconcileLoaded(t.cardNo, cardType, businessDate, { ...day, taps: [...earlier, charged] }, false);
    }
    return answer;
  }

  /** The card's day state rebuilt from its accepted taps of that day (after Redis lost it or it expired). */
  private async rebuild(cardNo: string, cardType: string, businessDate: string): Promise<FareState> {
    const taps = (await acceptedTapsOfDay(this.deps.pool, [cardNo], businessDate)).get(cardNo) ?? [];
    if (taps.length === 0) return freshDay(businessDate);
    const [booked, closedDay] = await Promise.all([this.deps.store.booked([cardNo], businessDate), this.deps.store.isClosedDay(businessDate)]);
    const day: DayContext = { taps, booked: booked.get(cardNo) ?? { byOperator: new Map(), journeyCloses: new Set() }, closedDay };
    const rated = rateDay(this.deps.policies.forDate(businessDate), { cardType: cardType as never }, taps.map(engineTapOf), this.reconciler.closeOptions(day, businessDate));
    return { state: rated.state ?? freshDay(businessDate).state, lastAtMs: Math.max(...taps.map((s) => s.tappedAt.getTime())) };
  }

  private async charge(t: TapInput, r: Charged, explanation: string[], fare: { expectedVersion: string; next: string; previous: string | null } | undefined): Promise<TapAnswer | 'stale'> {
    const operatorId = r.operatorId ?? t.terminal.operatorId;
    if (!operatorId) return this.decline(t, Code.invalidTransaction, 'no operator to credit: the terminal has no operatorId');
    const { journeyId, closedJourneyId } = journeyIds(t.cardNo, r);
    const cmd = tapCommand(t, r, operatorId, explanation, journeyId, closedJourneyId, fare);
    const outcome = await this.deps.authorizer.execute(cmd);
    if (outcome.kind === 'declined' && outcome.stale) return 'stale';
    return this.answer(t, outcome, r.fareFen, journeyId, explanation);
  }

  private async answer(t: TapInput, outcome: MoneyOutcome, fareFen: bigint, journeyId: string | null, explanation: string[]): Promise<TapAnswer> {
    if (outcome.kind === 'conflict') return conflict();
    if (outcome.kind === 'approved') {
      if (outcome.replayed) {
        // The first answer of this tap id is the stored one (this rating may differ from it).
        const known = (await tapsById(this.deps.pool, t.terminal.terminalId, [t.tapId])).get(t.tapId);
        if (known) return fromStored(t, known);
      }
      const balanceFen = BigInt(String(outcome.reply.balance ?? '0'));
      if (balanceFen < 0n) this.deps.onDebt(t.cardNo);
      return { status: 'accepted', replayed: outcome.replayed, code: Code.approved, fareFen, balanceFen, journeyId, explanation };
    }
    // The gate declined: unless the tap was recorded before (its Redis record lost), that is the answer.
    const known = (await tapsById(this.deps.pool, t.terminal.terminalId, [t.tapId])).get(t.tapId);
    if (known) return fromStored(t, known);
    return rejected(outcome.code, outcome.code === Code.insufficientFunds ? 'insufficient funds or card in debt' : 'declined');
  }

  private async engineDecline(t: TapInput, r: Declined): Promise<TapAnswer> {
    return this.decline(t, r.code, r.reason);
  }

  /** A decline before the gate: the stored first answer if the tap was seen, else remembered for retries. */
  private async decline(t: TapInput, code: ResponseCode, reason: string): Promise<TapAnswer> {
    const known = (await tapsById(this.deps.pool, t.terminal.terminalId, [t.tapId])).get(t.tapId);
    if (known) return fromStored(t, known);
    const record: OpRecord = { s: 'd', h: t.requestHash, r: { code, reason } };
    await this.deps.gate.remember(this.opRef(t), record);
    return rejected(code, reason);
  }

  /** The answer of a tap id with a Redis record; null when the earlier attempt was undone meanwhile. */
  private async fromRecord(t: TapInput, first: OpRecord): Promise<TapAnswer | null> {
    let record: OpRecord | null = first;
    const deadline = Date.now() + pendingTapWaitMsMax;
    while (record && record.s === 'p') {
      if (record.h !== t.requestHash) return conflict();
      if (Date.now() > deadline) return rejected(Code.systemMalfunction, 'the same tap is still being committed; retry');
      await new Promise((resolve) => setTimeout(resolve, 5));
      record = await this.deps.gate.readRecord(this.opRef(t));
    }
    if (!record) return null;
    if (record.h !== t.requestHash) return conflict();
    const r = record.r ?? {};
    if (record.s === 'd') return rejected(String(r.code ?? Code.doNotHonour) as ResponseCode, String(r.reason ?? 'declined'), true);
    return {
      status: 'accepted',
      replayed: true,
      code: Code.approved,
      fareFen: BigInt(String(r.fare ?? '0')),
      balanceFen: r.balance === undefined ? null : BigInt(String(r.balance)),
      journeyId: typeof r.journeyId === 'string' ? r.journeyId : null,
      explanation: Array.isArray(r.explanation) ? (r.explanation as string[]) : [],
    };
  }

  /** The tap's idempotency record: its tapId is its validator's (DESIGN §11). */
  private opRef(t: TapInput): { cardNo: string; opKind: string; opId: string; terminalId: string } {
    return { cardNo: t.cardNo, opKind: tapOpKind, opId: t.tapId, terminalId: t.terminal.terminalId };
  }

  private async read(t: TapInput): Promise<{ card: CachedCard | null; fareRaw: string | null; record: OpRecord | null }> {
    const k = this.deps.keys;
    const cardNo = t.cardNo;
    const results = await this.deps.redis.pipeline().hmget(k.cardState(cardNo), 'st', 'ty', 'ex', 'tu').get(k.cardFare(cardNo)).get(this.deps.gate.opKey(this.opRef(t))).exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline answered nothing');
    const [st, ty, ex, tu] = results[0]![1] as (string | null)[];
    const fareRaw = results[1]![1] as string | null;
    const recordRaw = results[2]![1] as string | null;
    return {
      card: st && ty ? { status: st, cardType: ty, expiresOn: ex ?? null, typeUntil: tu ? tu : null } : null,
      fareRaw,
      record: recordRaw ? (JSON.parse(recordRaw) as OpRecord) : null,
    };
  }
}

/** Whether a stored tap is this tap: a tapId is unique only within its validator. */
function sameTap(s: StoredTap, t: TapInput): boolean {
  return s.tapId === t.tapId && s.terminalId === t.terminal.terminalId;
}

/** The stored form of a tap just charged (for re-rating the rest of its day without reading it back). */
function storedOf(t: TapInput, r: Charged, a: TapAnswer): StoredTap {
  return {
    tapId: t.tapId,
    cardNo: t.cardNo,
    terminalId: t.terminal.terminalId,
    operatorId: r.operatorId ?? t.terminal.operatorId,
    mode: r.mode,
    kind: t.kind,
    routeId: t.kind === 'bus' ? t.terminal.routeId : null,
    stationId: t.kind === 'metro-in' || t.kind === 'metro-out' ? t.terminal.stationId : null,
    tappedAt: t.at,
    businessDate: r.businessDate,
    fareFen: r.fareFen,
    status: 'accepted',
    code: Code.approved,
    journeyId: a.journeyId,
    explanation: a.explanation,
    requestHash: t.requestHash,
    balanceFen: a.balanceFen,
  };
}

function tapCommand(t: TapInput, r: Charged, operatorId: string, explanation: string[], journeyId: string | null, closedJourneyId: string | null, fare: { expectedVersion: string; next: string; previous: string | null } | undefined): MoneyCommand {
  const fareFen = r.fareFen;
  const metro = t.kind === 'metro-in' || t.kind === 'metro-out';
  const row: TapRow = {
    tapId: t.tapId,
    cardNo: t.cardNo,
    terminalId: t.terminal.terminalId,
    operatorId,
    mode: r.mode,
    kind: t.kind,
    routeId: t.kind === 'bus' ? t.terminal.routeId : null,
    stationId: metro ? t.terminal.stationId : null,
    tappedAt: t.at,
    businessDate: r.businessDate,
    fareFen,
    status: 'accepted',
    code: Code.approved,
    journeyId,
    explanation,
    uploaded: t.uploaded,
    requestHash: t.requestHash,
  };
  const detail: Record<string, unknown> = { mode: r.mode, tapKind: t.kind, operatorId, fare: fareFen.toString(), explanation, tappedAt: t.at.toISOString(), uploaded: t.uploaded };
  if (t.despiteStatus) detail.beforeReport = true;
  if (t.kind === 'bus') detail.routeId = t.terminal.routeId;
  if (t.kind === 'metro-in') Object.assign(detail, { direction: 'in', stationId: t.terminal.stationId });
  if (t.kind === 'metro-out') Object.assign(detail, { direction: 'out', stationId: t.terminal.stationId, exitStationId: t.terminal.stationId, entryStationId: r.journey?.entryStationId ?? null });
  if (journeyId) detail.journeyId = journeyId;
  if (closedJourneyId) detail.closedJourneyId = closedJourneyId;
  const cmd: MoneyCommand = {
    opKind: tapOpKind,
    opId: t.tapId,
    requestHash: t.requestHash,
    cardNo: t.cardNo,
    terminalId: t.terminal.terminalId,
    businessDate: r.businessDate,
    gate: { type: 'debit', purseFen: fareFen, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: t.uploaded, ...(t.despiteStatus ? { ignoreCardStatus: true } : {}) },
    legs: fareFen > 0n ? [{ debit: { kind: 'purse', ownerId: t.cardNo }, credit: { kind: 'receivable', ownerId: operatorId }, amountFen: fareFen }] : [],
    detail,
    tap: row,
    reply: (ids, purse) => ({ fare: fareFen.toString(), balance: purse.toString(), journeyId, explanation, transactionId: ids[0]?.toString() ?? null }),
  };
  if (fare && cmd.gate.type === 'debit') cmd.gate.fare = fare;
  return cmd;
}
