// Social-security medical settlements (DESIGN §5): presettle, settle and cancel a hospital claim.
// The split is pure (domain/medical); money moves through the Authorizer; the claim row and the
// citizen's year-to-date follow right after the ledger commit, keyed by claimId, and are completed
// from the ledger when that write was lost (docs/medical.md, "Durability").
import type { Authorizer, MoneyOutcome, MoneyCommand } from './authorizer.js';
import type { CardSource, LedgerLeg } from './ports.js';
import type { TerminalContext } from './terminal.js';
import type { CardGatePort } from './ports/gate.js';
import type { RegistryStore } from './ports/registry.js';
import { businessDateOf } from '../domain/business-day.js';
import { isValidCardNo, maskCardNo } from '../domain/card-number.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { computeSplit, medicalYearOf, type MedicalItem, type MedicalPolicy, type MedicalSplit } from '../domain/medical/index.js';
import { terminalMay } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';
import type { Logger } from '../platform/logger.js';
import {
  cancelLegs,
  cancelOpKind,
  citizenOf,
  claimScopeOf,
  claimFromLedger,
  settleDetail,
  settleLegs,
  settleOpKind,
  type ClaimRecord,
  type LedgerMedicalOp,
  type MedicalClaims,
  type NewClaim,
} from './medical-records.js';

export * from './medical-records.js';

/** A settlement whose gate declined 51 because the balance moved is recomputed once. */
export const settleAttemptsMax = 2;
/** Ledger commands completed per round of the start-up sweep. */
export const orphanBatchMax = 500;
/** The start-up sweep looks this many business days back for lost claim writes. */
export const orphanSweepDaysMax = 7;
/** Card replacements followed to find where a cancelled claim's money goes back. */
export const replacementHopsMax = 8;

export interface MedicalDeps {
  authorizer: Authorizer;
  gate: Pick<CardGatePort, 'readRecord' | 'cachedState' | 'loadFrom' | 'forgetDecline'>;
  cards: CardSource;
  registry: Pick<RegistryStore, 'card' | 'citizen'>;
  claims: MedicalClaims;
  policy: MedicalPolicy;
  clock: Clock;
  log: Logger;
  /**
   * Runs a citizen's settlement or cancellation one at a time across every process (the split
   * reads the year-to-date that the commit changes); 'busy' (fn not run) when the citizen stays busy.
   */
  perCitizen: <T>(citizenId: string, fn: () => Promise<T>) => Promise<{ kind: 'ran'; value: T } | { kind: 'busy' }>;
}

export interface ClaimRequest {
  claimId: string;
  cardNo: string;
  items: MedicalItem[];
  usePurse: boolean;
}

export type PresettleOutcome = { kind: 'split'; split: MedicalSplit } | { kind: 'declined'; code: ResponseCode };

/** Test hooks (like LedgerWriter.beforeCommit): run at the named point; throwing simulates a crash there. */
export interface MedicalHooks {
  beforeGate?: (attempt: number) => Promise<void> | void;
  beforeClaimWrite?: (kind: 'settle' | 'cancel') => Promise<void> | void;
}

const declined = (code: ResponseCode): MoneyOutcome => ({ kind: 'declined', code });

interface LiveCard {
  status: string;
  expiresOn: string;
  purseFen: bigint;
  medicalFen: bigint;
}

export class MedicalService {
  hooks: MedicalHooks = {};

  constructor(private readonly deps: MedicalDeps) {}

  /** A citizen's lease busy beyond its wait is a 96 (nothing moved; retry), not an error. */
  private async exclusive(citizenId: bigint, fn: () => Promise<MoneyOutcome>): Promise<MoneyOutcome> {
    const result = await this.deps.perCitizen(citizenId.toString(), fn);
    if (result.kind === 'ran') return result.value;
    this.deps.log.warn({ citizenId: citizenId.toString() }, 'medical settlement: citizen busy; refused');
    return declined(Code.systemMalfunction);
  }

  /** Computes the split against the card's live balances and the year-to-date; moves nothing. */
  async presettle(t: TerminalContext, req: ClaimRequest): Promise<PresettleOutcome> {
    if (!this.mayMedical(t)) return { kind: 'declined', code: Code.notPermittedTerminal };
    const card = isValidCardNo(req.cardNo) ? await this.deps.registry.card(req.cardNo) : null;
    if (!card) return { kind: 'declined', code: Code.invalidCard };
    // A lost write of an earlier claim would leave the year-to-date short: complete it first.
    await this.completeOrphansOf(card.citizenId);
    const computed = await this.compute(req, card.citizenId, businessDateOf(this.deps.clock.now()));
    return computed.kind === 'declined' ? computed : { kind: 'split', split: computed.split };
  }

  async settle(t: TerminalContext, req: ClaimRequest): Promise<MoneyOutcome> {
    if (!this.mayMedical(t)) return declined(Code.notPermittedTerminal);
    if (!isValidCardNo(req.cardNo)) return declined(Code.invalidCard);
    const card = await this.deps.registry.card(req.cardNo);
    if (!card) return declined(Code.invalidCard);
    const hash = settleHash(t.merchantId!, req);
    // The split depends on the medical balance and the year-to-date: one settlement per citizen at a time.
    return this.exclusive(card.citizenId, () => this.settleLocked(t, req, card.citizenId, hash));
  }

  private async settleLocked(t: TerminalContext, req: ClaimRequest, citizenId: bigint, hash: string): Promise<MoneyOutcome> {
    await this.completeOrphansOf(citizenId);
    // The claimId is this POS's own (DESIGN §11): another POS's claim of that id is not seen.
    const scope = claimScopeOf(t.terminalId);
    const existing = await this.deps.claims.claim(scope, req.claimId);
    if (existing) return existing.requestHash === hash ? approvedFromClaim(existing) : { kind: 'conflict' };
    const opRef = { cardNo: req.cardNo, opKind: settleOpKind, opId: req.claimId, terminalId: t.terminalId };
    const prior = await this.deps.gate.readRecord(opRef);
    if (prior && prior.h !== hash) return { kind: 'conflict' };
    if (prior?.s === 'd') return declined(String(prior.r?.code ?? Code.doNotHonour) as ResponseCode);

    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock.now();
      const businessDate = businessDateOf(now);
      const computed = await this.compute(req, citizenId, businessDate);
      if (computed.kind === 'declined') return declined(computed.code);
      const split = computed.split;
      const claim: NewClaim = {
        claimId: req.claimId,
        cardNo: req.cardNo,
        citizenId,
        merchantId: t.merchantId!,
        terminalId: t.terminalId,
        businessDate,
        year: medicalYearOf(businessDate),
        items: req.items,
        usePurse: req.usePurse,
        totalFen: split.total,
        fundFen: split.fund,
        personalFen: split.personal,
        purseFen: split.purse,
        cashFen: split.cash,
        deductiblePartFen: split.deductiblePart,
        requestHash: hash,
        transferId: null,
        settledAt: now,
      };
      const legs = settleLegs(claim);
      if (legs.length === 0) {
        if (prior) return declined(Code.systemMalfunction); // an attempt with money is still pending elsewhere
        // Nothing moves in the ledger (all cash): the claim row is the whole effect and its idempotency key.
        await this.deps.claims.recordSettlement(claim);
        const stored = await this.deps.claims.claim(scope, req.claimId);
        if (!stored) return declined(Code.systemMalfunction);
        return stored.requestHash === hash ? approvedFromClaim(stored) : { kind: 'conflict' };
      }
      await this.hooks.beforeGate?.(attempt);
      const outcome = await this.deps.authorizer.execute(this.settleCommand(claim, split, legs));
      if (outcome.kind === 'declined' && outcome.code === Code.insufficientFunds && attempt < settleAttemptsMax && !prior) {
        // The balance moved between our read and the gate (a payment or tap on the same card):
        // forget the decline we just caused and split again on the new balance.
        await this.forgetDecline(opRef, hash);
        continue;
      }
      if (outcome.kind !== 'approved') return outcome;
      if (outcome.replayed) {
        // Committed by an earlier attempt (another process): the ledger holds its split.
        await this.completeOrphansOf(citizenId);
        const stored = await this.deps.claims.claim(scope, req.claimId);
        return stored ? approvedFromClaim(stored) : outcome;
      }
      claim.transferId = BigInt(String(outcome.reply.transactionId));
      await this.writeAfterCommit('settle', () => this.deps.claims.recordSettlement(claim), claim);
      return outcome;
    }
  }

  async cancel(t: TerminalContext, claimId: string): Promise<MoneyOutcome> {
    if (!this.mayMedical(t)) return declined(Code.notPermittedTerminal);
    // Only this POS's own claim of that id (DESIGN §11): another POS's is "not found" (25).
    const scope = claimScopeOf(t.terminalId);
    let claim = await this.deps.claims.claim(scope, claimId);
    if (!claim) {
      // Its settlement may be in the ledger with the claim row lost: complete it first.
      const op = await this.deps.claims.ledgerSettlement(scope, claimId);
      const citizen = op ? citizenOf(op) : null;
      if (citizen !== null) {
        await this.completeOrphansOf(citizen);
        claim = await this.deps.claims.claim(scope, claimId);
      }
    }
    if (!claim || claim.merchantId !== t.merchantId) return declined(Code.originalNotFound);
    const citizenId = claim.citizenId;
    return this.exclusive(citizenId, async () => {
      await this.completeOrphansOf(citizenId);
      const current = await this.deps.claims.claim(scope, claimId);
      if (!current) return declined(Code.originalNotFound);
      if (current.status === 'cancelled') return { kind: 'approved', reply: {}, replayed: true };
      const now = this.deps.clock.now();
      const target = await this.currentCardOf(current.cardNo);
      const legs = cancelLegs(current, target);
      if (legs.length === 0) {
        await this.deps.claims.recordCancellation(scope, claimId, now);
        return { kind: 'approved', reply: {}, replayed: false };
      }
      const outcome = await this.deps.authorizer.execute({
        opKind: cancelOpKind,
        opId: claimId,
        requestHash: requestHash({ claimId, merchantId: current.merchantId }),
        cardNo: target,
        terminalId: t.terminalId,
        businessDate: businessDateOf(now),
        gate: { type: 'credit', purseFen: current.purseFen, medicalFen: current.personalFen, dailyGiveBackFen: 0n, requireActive: false },
        legs,
        detail: {
          claimId,
          claimScope: scope,
          citizenId: citizenId.toString(),
          year: current.year,
          merchantId: current.merchantId,
          fund: current.fundFen.toString(),
          personal: current.personalFen.toString(),
          purse: current.purseFen.toString(),
          deductiblePart: current.deductiblePartFen.toString(),
        },
        reply: (ids) => ({ transactionId: ids[0]!.toString() }),
      });
      if (outcome.kind !== 'approved') return outcome;
      if (outcome.replayed) await this.completeOrphansOf(citizenId);
      else await this.writeAfterCommit('cancel', () => this.deps.claims.recordCancellation(scope, claimId, now), current);
      return outcome;
    });
  }

  /** Completes the claim rows of ledger commands from the last days whose write was lost (start-up). */
  async sweepOrphans(days = orphanSweepDaysMax): Promise<number> {
    const since = businessDateOf(new Date(this.deps.clock.now().getTime() - days * 86_400_000));
    let after = 0n;
    let completed = 0;
    while (true) {
      const ops = await this.deps.claims.orphansSince(since, after, orphanBatchMax);
      for (const op of ops) {
        if (await this.applyLedgerOp(op)) completed++;
        after = op.transferId;
      }
      if (ops.length < orphanBatchMax) break;
    }
    if (completed > 0) this.deps.log.warn({ completed, since }, 'medical claims completed from the ledger');
    return completed;
  }

  private async completeOrphansOf(citizenId: bigint): Promise<void> {
    for (const op of await this.deps.claims.orphansOf(citizenId)) await this.applyLedgerOp(op);
  }

  private async applyLedgerOp(op: LedgerMedicalOp): Promise<boolean> {
    if (op.opKind === cancelOpKind) return this.deps.claims.recordCancellation(op.claimScope, op.opId, op.createdAt);
    const claim = claimFromLedger(op);
    if (!claim) {
      this.deps.log.error({ claimId: op.opId, transferId: op.transferId.toString() }, 'medical settlement in the ledger has an unreadable detail');
      return false;
    }
    const inserted = await this.deps.claims.recordSettlement(claim);
    if (inserted) this.deps.log.warn({ claimId: op.opId, card: claim.cardNo ? maskCardNo(claim.cardNo) : null }, 'medical claim completed from the ledger');
    return inserted;
  }

  /** After the ledger commit the money has moved: a failed claim write is logged, not answered 96. */
  private async writeAfterCommit(kind: 'settle' | 'cancel', write: () => Promise<boolean>, claim: Pick<ClaimRecord, 'claimId' | 'cardNo'>): Promise<void> {
    try {
      await this.hooks.beforeClaimWrite?.(kind);
      await write();
    } catch (error) {
      this.deps.log.error(
        { err: error, claimId: claim.claimId, card: maskCardNo(claim.cardNo), kind },
        'medical claim write failed after the ledger commit; completed from the ledger on retry, on the next claim of the citizen, or at start',
      );
    }
  }

  private async compute(req: ClaimRequest, citizenId: bigint, businessDate: string): Promise<{ kind: 'split'; split: MedicalSplit } | { kind: 'declined'; code: ResponseCode }> {
    const card = await this.liveCard(req.cardNo, businessDate);
    if (!card) return { kind: 'declined', code: Code.invalidCard };
    // Same order as the gate (authorize.lua), so that nothing is computed for a card that cannot pay.
    if (card.status === 'lost') return { kind: 'declined', code: Code.lostCard };
    if (card.status !== 'active') return { kind: 'declined', code: Code.blockedCard };
    if (card.expiresOn && card.expiresOn < businessDate) return { kind: 'declined', code: Code.expiredCard };
    const [ytd, citizen] = await Promise.all([this.deps.claims.ytd(citizenId, medicalYearOf(businessDate)), this.deps.registry.citizen(citizenId)]);
    const result = computeSplit({
      policy: this.deps.policy,
      insured: citizen?.insured ?? false,
      items: req.items,
      ytd,
      medicalBalanceFen: card.medicalFen,
      purseBalanceFen: card.purseFen,
      usePurse: req.usePurse,
    });
    return result.ok ? { kind: 'split', split: result.split } : { kind: 'declined', code: result.error.code };
  }

  /** The Redis view of the card (what the gate will check), loaded from PostgreSQL on a miss. */
  private async liveCard(cardNo: string, businessDate: string): Promise<LiveCard | null> {
    let state = await this.deps.gate.cachedState(cardNo);
    if (!state.st) {
      const loaded = await this.deps.gate.loadFrom(cardNo, () => this.deps.cards.snapshot(cardNo, businessDate));
      if (loaded === 'unknown') return null;
      state = await this.deps.gate.cachedState(cardNo);
      if (!state.st) return null;
    }
    return { status: state.st, expiresOn: state.ex ?? '', purseFen: BigInt(state.pu ?? '0'), medicalFen: BigInt(state.me ?? '0') };
  }

  private settleCommand(claim: NewClaim, split: MedicalSplit, legs: LedgerLeg[]): MoneyCommand {
    return {
      opKind: settleOpKind,
      opId: claim.claimId,
      requestHash: claim.requestHash,
      cardNo: claim.cardNo,
      terminalId: claim.terminalId,
      businessDate: claim.businessDate,
      gate: { type: 'debit', purseFen: claim.purseFen, medicalFen: claim.personalFen, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: false },
      legs,
      detail: settleDetail(claim, split.explanation),
      reply: (ids) => ({
        transactionId: ids[0]!.toString(),
        fund: claim.fundFen.toString(),
        personal: claim.personalFen.toString(),
        purse: claim.purseFen.toString(),
        cash: claim.cashFen.toString(),
        total: claim.totalFen.toString(),
      }),
    };
  }

  /** Deletes the decline record this settlement just caused, so that the recomputed split can run. */
  private async forgetDecline(opRef: { cardNo: string; opKind: string; opId: string; terminalId: string }, hash: string): Promise<void> {
    await this.deps.gate.forgetDecline(opRef, hash);
  }

  /** Where money going back to a card lands: the card, or the card that replaced it. */
  private async currentCardOf(cardNo: string): Promise<string> {
    let current = cardNo;
    for (let hop = 0; hop < replacementHopsMax; hop++) {
      const card = await this.deps.registry.card(current);
      if (!card?.replacedBy) break;
      current = card.replacedBy;
    }
    return current;
  }

  private mayMedical(t: TerminalContext): boolean {
    return terminalMay(t, 'medical') && t.merchantId !== null;
  }
}

/** The request's fingerprint: same claimId with other content is a conflict (409 / 94). */
export function settleHash(merchantId: string, req: ClaimRequest): string {
  return requestHash({
    merchantId,
    cardNo: req.cardNo,
    usePurse: req.usePurse,
    items: req.items.map((i) => ({ code: i.code, amount: i.amountFen, eligible: i.eligible })),
  });
}

function approvedFromClaim(c: ClaimRecord): MoneyOutcome {
  return {
    kind: 'approved',
    replayed: true,
    reply: {
      ...(c.transferId !== null ? { transactionId: c.transferId.toString() } : {}),
      fund: c.fundFen.toString(),
      personal: c.personalFen.toString(),
      purse: c.purseFen.toString(),
      cash: c.cashFen.toString(),
      total: c.totalFen.toString(),
    },
  };
}
