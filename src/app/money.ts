// Use cases that move a card's stored value outside transit: top-ups, small payments, reversals
// and refunds (DESIGN §5). Each is idempotent by its client id through the Authorizer.
import type { Authorizer, MoneyCommand, MoneyOutcome } from './authorizer.js';
import type { TerminalContext } from './terminal.js';
import type { JournalReads, TransferView } from './ports/journal.js';
import type { RegistryStore } from './ports/registry.js';
import type { PaymentRacePort, RefundHoldsPort } from './ports/money.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { isValidCardNo } from '../domain/card-number.js';
import { businessDateOf } from '../domain/business-day.js';
import { pinTriesMax, reversalWaitMsMax, type PaymentLimits } from '../domain/payment-policy.js';
import type { PinCheck, PinGuard } from './pin.js';
import { terminalMay, terminalMayTopup, type TopupChannel } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';
import type { CardEventSink } from './events.js';

export type Decline = { kind: 'declined'; code: ResponseCode };

export type { PinCheck } from './pin.js';

export interface MoneyDeps {
  authorizer: Authorizer;
  registry: Pick<RegistryStore, 'card'>;
  journal: Pick<JournalReads, 'scopedOp' | 'refundedFen'>;
  clock: Clock;
  limits: PaymentLimits;
  topupAmountMaxFen: bigint;
  pinCheck: PinCheck;
  pins: PinGuard;
  holds: RefundHoldsPort;
  race: PaymentRacePort;
  /** Told of every approved top-up booked now ('topup-approved'), whatever its channel. */
  events?: CardEventSink;
}

export function transactionId(transferIds: bigint[]): string {
  return transferIds[0]!.toString();
}

/** Six-character authorization code derived from the transfer id (stable across replays). */
export function authCodeOf(transferId: bigint): string {
  return (transferId % 1_000_000n).toString().padStart(6, '0');
}

const declined = (code: ResponseCode): Decline => ({ kind: 'declined', code });

/** How often a reversal looks again for its payment in flight. */
const reversalPollMs = 10;
/** The wait is bounded by its number of polls (no wall clock here): at least reversalWaitMsMax. */
const reversalPollsMax = Math.ceil(reversalWaitMsMax / reversalPollMs);

/**
 * Whether a refund's or reversal's hold is given back: only when nothing can have moved. A 96 may
 * hide a commit whose outcome is unknown, so its hold stays (it can only refuse; a retry with the
 * same id reuses it) until the key is rebuilt from the ledger.
 */
function releasesHold(outcome: MoneyOutcome): boolean {
  if (outcome.kind === 'conflict') return true;
  return outcome.kind === 'declined' && outcome.code !== Code.systemMalfunction;
}

export class MoneyService {

  constructor(private readonly deps: MoneyDeps) {}

  async topup(caller: TerminalContext | null, req: { topupId: string; cardNo: string; amount: bigint; channel: TopupChannel }): Promise<MoneyOutcome> {
    if (caller && !terminalMayTopup(caller, req.channel)) return declined(Code.notPermittedTerminal);
    if (!caller && req.channel !== 'bank' && req.channel !== 'app' && req.channel !== 'counter' && req.channel !== 'kiosk') return declined(Code.invalidTransaction);
    if (!isValidCardNo(req.cardNo)) return declined(Code.invalidCard);
    if (req.amount <= 0n || req.amount > this.deps.topupAmountMaxFen) return declined(Code.invalidAmount);
    const terminalId = caller?.terminalId ?? null;
    const outcome = await this.deps.authorizer.execute({
      opKind: 'topup',
      opId: req.topupId,
      requestHash: requestHash({ cardNo: req.cardNo, amount: req.amount, channel: req.channel, terminalId }),
      cardNo: req.cardNo,
      terminalId,
      businessDate: businessDateOf(this.deps.clock.now()),
      gate: { type: 'credit', purseFen: req.amount, medicalFen: 0n, dailyGiveBackFen: 0n, requireActive: true },
      legs: [{ debit: { kind: 'clearing', ownerId: req.channel }, credit: { kind: 'purse', ownerId: req.cardNo }, amountFen: req.amount }],
      detail: { channel: req.channel, amount: req.amount.toString() },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), balance: purse.toString() }),
    });
    if (outcome.kind === 'approved' && !outcome.replayed && outcome.reply.balance !== undefined) {
      await this.deps.events?.emit('topup-approved', { cardNo: req.cardNo, amountFen: req.amount, balanceFen: BigInt(String(outcome.reply.balance)) });
    }
    return outcome;
  }

  async payment(t: TerminalContext, req: { paymentId: string; cardNo: string; amount: bigint; pinBlock?: string | undefined }): Promise<MoneyOutcome> {
    if (!terminalMay(t, 'payment') || !t.merchantId) return declined(Code.notPermittedTerminal);
    if (!isValidCardNo(req.cardNo)) return declined(Code.invalidCard);
    if (req.amount <= 0n || req.amount > this.deps.limits.perTransactionMaxFen) return declined(Code.invalidAmount);
    const hash = requestHash({ cardNo: req.cardNo, amount: req.amount, terminalId: t.terminalId });
    const now = this.deps.clock.now();
    const cmd: MoneyCommand = {
      opKind: 'payment',
      opId: req.paymentId,
      requestHash: hash,
      cardNo: req.cardNo,
      terminalId: t.terminalId,
      businessDate: businessDateOf(now),
      gate: { type: 'debit', purseFen: req.amount, medicalFen: 0n, dailyAddFen: req.amount, dailyMaxFen: this.deps.limits.dailyMaxFen, allowDebt: false },
      legs: [{ debit: { kind: 'purse', ownerId: req.cardNo }, credit: { kind: 'payable', ownerId: t.merchantId }, amountFen: req.amount }],
      detail: { merchantId: t.merchantId, amount: req.amount.toString() },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), authCode: authCodeOf(ids[0]!), balance: purse.toString() }),
    };
    if (req.amount > this.deps.limits.noPinMaxFen) {
      // A replay answers the first result without a second PIN check (which would count a try).
      const known = await this.deps.authorizer.decided(cmd);
      if (known) return known;
      const pin = await this.checkPin(t, req.cardNo, req.pinBlock);
      if (pin) return pin;
    }
    // Its reversal came first (in any process): the terminal has given up on it, so it must not take money now.
    if (!(await this.deps.race.paymentMayGo(t.terminalId, req.paymentId, req.cardNo))) return declined(Code.invalidTransaction);
    return this.deps.authorizer.execute(cmd);
  }

  /**
   * The PIN of a payment above noPinMax. The try is reserved in PostgreSQL before the block is
   * verified (PinGuard), so parallel guesses in any number of processes cannot share one count.
   */
  private async checkPin(t: TerminalContext, cardNo: string, pinBlock: string | undefined): Promise<Decline | null> {
    const pins = this.deps.pins;
    // A terminal that sent wrong PINs for too many cards is refused PIN transactions until cleared.
    if (await pins.terminalBlocked(t.terminalId)) return declined(Code.securityViolation);
    const card = await this.deps.registry.card(cardNo);
    if (!card) return declined(Code.invalidCard);
    const now = this.deps.clock.now();
    if (await pins.locked(cardNo, now)) return declined(Code.pinTriesExceeded);
    // No block (or no PIN on the card): nothing was tried, so no try is used up.
    if (!pinBlock || !card.pinHash) return declined(Code.incorrectPin);
    const attempt = await pins.reserve(cardNo, now);
    if (attempt === null) return declined(Code.pinTriesExceeded);
    const ok = await this.deps.pinCheck({ terminalId: t.terminalId, cardNo, pinBlockHex: pinBlock, pinHash: card.pinHash });
    if (ok) {
      await pins.succeed(cardNo);
      return null;
    }
    await pins.terminalFailed(t.terminalId, cardNo, now);
    return declined(attempt >= pinTriesMax ? Code.pinTriesExceeded : Code.incorrectPin);
  }

  /** An operator ends a card's PIN lock (audited). False when the card is unknown. */
  unlockPin(cardNo: string, operator: string): Promise<boolean> {
    return this.deps.pins.unlockCard(cardNo, operator, this.deps.clock.now());
  }

  /** An operator lets a blocked terminal make PIN transactions again (audited). True when it was blocked. */
  clearTerminalPin(terminalId: string, operator: string): Promise<boolean> {
    return this.deps.pins.clearTerminal(terminalId, operator, this.deps.clock.now());
  }

  async reverse(t: TerminalContext, paymentId: string): Promise<MoneyOutcome> {
    if (!terminalMay(t, 'reversal')) return declined(Code.notPermittedTerminal);
    const original = (await this.originalPayment(t, paymentId)) ?? (await this.racingPayment(t, paymentId));
    if (original === 'timeout') return declined(Code.systemMalfunction);
    if (!original) return declined(Code.originalNotFound);
    const cardNo = original.cardNo!;
    const done = await this.deps.journal.scopedOp('payment-reversal', t.terminalId, paymentId);
    let amount: bigint;
    let fresh = false;
    if (done.length > 0) {
      amount = done[0]!.amountFen; // a replay: the amount it reversed
    } else {
      // What is left of the payment is held in Redis for this reversal before it is committed, so
      // that a refund in another process cannot take the same money.
      const hold = await this.deps.holds.reversal({
        cardNo,
        paymentId: `${t.terminalId}/${paymentId}`,
        paymentFen: original.amountFen,
        ledgerRefundedFen: await this.deps.journal.refundedFen(t.terminalId, paymentId),
        ledgerReversedFen: 0n,
      });
      if (hold.kind !== 'held') return declined(Code.invalidTransaction);
      amount = hold.amountFen;
      fresh = hold.fresh;
    }
    const sameDay = original.businessDate === businessDateOf(this.deps.clock.now());
    const outcome = await this.deps.authorizer.execute({
      opKind: 'payment-reversal',
      opId: paymentId,
      requestHash: requestHash({ paymentId, terminalMerchant: t.merchantId }),
      cardNo,
      terminalId: t.terminalId,
      businessDate: done[0]?.businessDate ?? businessDateOf(this.deps.clock.now()),
      // Gives back what the reversal returns, as the card's snapshot counts it (payments minus reversals).
      gate: { type: 'credit', purseFen: amount, medicalFen: 0n, dailyGiveBackFen: sameDay ? amount : 0n, requireActive: false },
      legs: [{ debit: { kind: 'payable', ownerId: original.creditOwner }, credit: { kind: 'purse', ownerId: cardNo }, amountFen: amount }],
      detail: { paymentId, merchantId: original.creditOwner, amount: amount.toString() },
      reply: (_ids, purse) => ({ balance: purse.toString() }),
    });
    if (fresh && releasesHold(outcome)) await this.deps.holds.releaseReversal(cardNo, `${t.terminalId}/${paymentId}`);
    return outcome;
  }

  /**
   * A refund names a payment of this terminal, or (ISO refund by RRN) of `paymentTerminalId`,
   * another terminal of the same merchant.
   */
  async refund(t: TerminalContext, req: { refundId: string; paymentId: string; amount: bigint; paymentTerminalId?: string | undefined }): Promise<MoneyOutcome> {
    if (!terminalMay(t, 'refund')) return declined(Code.notPermittedTerminal);
    if (req.amount <= 0n) return declined(Code.invalidAmount);
    const paymentScope = req.paymentTerminalId ?? t.terminalId;
    const original = await this.originalPayment(t, req.paymentId, paymentScope);
    if (!original) return declined(Code.originalNotFound);
    const cardNo = original.cardNo!;
    const already = await this.deps.journal.scopedOp('refund', t.terminalId, req.refundId);
    let fresh = false;
    if (already.length === 0) {
      // New refund: it must fit in what is left of the payment, and the payment not be reversed.
      // The hold is taken atomically in Redis (refund-reserve.lua), shared by every process.
      const reversed = await this.deps.journal.scopedOp('payment-reversal', paymentScope, req.paymentId);
      if (reversed.length > 0) return declined(Code.invalidTransaction);
      const hold = await this.deps.holds.refund({
        cardNo,
        paymentId: `${paymentScope}/${req.paymentId}`,
        refundId: `${t.terminalId}/${req.refundId}`,
        amountFen: req.amount,
        paymentFen: original.amountFen,
        ledgerRefundedFen: await this.deps.journal.refundedFen(paymentScope, req.paymentId),
        ledgerReversedFen: 0n,
      });
      if (hold.kind === 'reversed') return declined(Code.invalidTransaction);
      if (hold.kind !== 'held') return declined(Code.invalidAmount);
      fresh = hold.fresh;
    }
    const outcome = await this.deps.authorizer.execute({
      opKind: 'refund',
      opId: req.refundId,
      requestHash: requestHash({ paymentId: req.paymentId, amount: req.amount, terminalMerchant: t.merchantId }),
      cardNo,
      terminalId: t.terminalId,
      businessDate: already[0]?.businessDate ?? businessDateOf(this.deps.clock.now()),
      gate: { type: 'credit', purseFen: req.amount, medicalFen: 0n, dailyGiveBackFen: 0n, requireActive: false },
      legs: [{ debit: { kind: 'payable', ownerId: original.creditOwner }, credit: { kind: 'purse', ownerId: cardNo }, amountFen: req.amount }],
      detail: { paymentId: req.paymentId, paymentScope, merchantId: original.creditOwner, amount: req.amount.toString() },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), balance: purse.toString() }),
    });
    if (fresh && releasesHold(outcome)) await this.deps.holds.releaseRefund(cardNo, `${paymentScope}/${req.paymentId}`, `${t.terminalId}/${req.refundId}`);
    return outcome;
  }

  /**
   * A reversal that found no committed payment. If it came first it is remembered (answer 25) and
   * the payment, when it arrives, is declined 12. If the payment is in flight (in any process), the
   * reversal waits for it and then reverses it at once (answer 00); a declined payment moved
   * nothing (25). 'timeout': the payment is still undecided after reversalWaitMsMax (96: retry).
   */
  private async racingPayment(t: TerminalContext, paymentId: string): Promise<TransferView | null | 'timeout'> {
    const claim = await this.deps.race.reversalFirst(t.terminalId, paymentId);
    if (claim.kind === 'remembered') return null;
    for (let poll = 0; poll < reversalPollsMax; poll++) {
      const original = await this.originalPayment(t, paymentId);
      if (original) return original;
      if (await this.deps.race.paymentDeclined(claim.cardNo, `${t.terminalId}/${paymentId}`)) return null;
      await new Promise((resolve) => setTimeout(resolve, reversalPollMs));
    }
    return (await this.originalPayment(t, paymentId)) ?? 'timeout';
  }

  /** The committed payment of this terminal (or of `scope`, a terminal of the same merchant). */
  private async originalPayment(t: TerminalContext, paymentId: string, scope: string = t.terminalId) {
    const legs = await this.deps.journal.scopedOp('payment', scope, paymentId);
    const leg = legs[0];
    if (!leg || leg.creditOwner !== t.merchantId || !leg.cardNo) return null;
    return leg;
  }
}
