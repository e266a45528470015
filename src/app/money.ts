// Use cases that move a card's stored value outside transit: top-ups, small payments, reversals
// and refunds (DESIGN §5). Each is idempotent by its client id through the Authorizer.
import type { Authorizer, MoneyCommand, MoneyOutcome } from './authorizer.js';
import type { TerminalContext } from './terminal.js';
import type { Journal } from '../adapters/postgres/journal.js';
import type { Registry } from '../adapters/postgres/registry.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { isValidCardNo } from '../domain/card-number.js';
import { businessDateOf } from '../domain/business-day.js';
import { pinTriesMax, type PaymentLimits } from '../domain/payment-policy.js';
import type { PinGuard } from './pin.js';
import { terminalMay, terminalMayTopup, type TopupChannel } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';
import { KeyedMutex } from '../platform/mutex.js';

export type Decline = { kind: 'declined'; code: ResponseCode };

/** Verifies a terminal's encrypted PIN block against the card's stored PIN hash. */
export type PinCheck = (input: { terminalId: string; cardNo: string; pinBlockHex: string; pinHash: string }) => Promise<boolean>;

export interface MoneyDeps {
  authorizer: Authorizer;
  registry: Registry;
  journal: Journal;
  clock: Clock;
  limits: PaymentLimits;
  topupAmountMaxFen: bigint;
  pinCheck: PinCheck;
  pins: PinGuard;
}

export function transactionId(transferIds: bigint[]): string {
  return transferIds[0]!.toString();
}

/** Six-character authorization code derived from the transfer id (stable across replays). */
export function authCodeOf(transferId: bigint): string {
  return (transferId % 1_000_000n).toString().padStart(6, '0');
}

const declined = (code: ResponseCode): Decline => ({ kind: 'declined', code });

export class MoneyService {
  private readonly perPayment = new KeyedMutex();

  constructor(private readonly deps: MoneyDeps) {}

  async topup(caller: TerminalContext | null, req: { topupId: string; cardNo: string; amount: bigint; channel: TopupChannel }): Promise<MoneyOutcome> {
    if (caller && !terminalMayTopup(caller, req.channel)) return declined(Code.notPermittedTerminal);
    if (!caller && req.channel !== 'bank' && req.channel !== 'app' && req.channel !== 'counter' && req.channel !== 'kiosk') return declined(Code.invalidTransaction);
    if (!isValidCardNo(req.cardNo)) return declined(Code.invalidCard);
    if (req.amount <= 0n || req.amount > this.deps.topupAmountMaxFen) return declined(Code.invalidAmount);
    const terminalId = caller?.terminalId ?? null;
    return this.deps.authorizer.execute({
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
    return this.perPayment.run(paymentId, async () => {
      const original = await this.originalPayment(t, paymentId);
      if (!original) return declined(Code.originalNotFound);
      const done = await this.deps.journal.op('payment-reversal', paymentId);
      const refunded = await this.deps.journal.refundedFen(paymentId);
      const remaining = done.length > 0 ? done[0]!.amountFen : original.amountFen - refunded;
      if (remaining <= 0n) return declined(Code.invalidTransaction);
      const sameDay = original.businessDate === businessDateOf(this.deps.clock.now());
      return this.deps.authorizer.execute({
        opKind: 'payment-reversal',
        opId: paymentId,
        requestHash: requestHash({ paymentId, terminalMerchant: t.merchantId }),
        cardNo: original.cardNo!,
        terminalId: t.terminalId,
        businessDate: done[0]?.businessDate ?? businessDateOf(this.deps.clock.now()),
        // Gives back what the reversal returns, as the card's snapshot counts it (payments minus reversals).
        gate: { type: 'credit', purseFen: remaining, medicalFen: 0n, dailyGiveBackFen: sameDay ? remaining : 0n, requireActive: false },
        legs: [{ debit: { kind: 'payable', ownerId: original.creditOwner }, credit: { kind: 'purse', ownerId: original.cardNo! }, amountFen: remaining }],
        detail: { paymentId, merchantId: original.creditOwner, amount: remaining.toString() },
        reply: (_ids, purse) => ({ balance: purse.toString() }),
      });
    });
  }

  async refund(t: TerminalContext, req: { refundId: string; paymentId: string; amount: bigint }): Promise<MoneyOutcome> {
    if (!terminalMay(t, 'refund')) return declined(Code.notPermittedTerminal);
    if (req.amount <= 0n) return declined(Code.invalidAmount);
    return this.perPayment.run(req.paymentId, async () => {
      const original = await this.originalPayment(t, req.paymentId);
      if (!original) return declined(Code.originalNotFound);
      const already = await this.deps.journal.op('refund', req.refundId);
      if (already.length === 0) {
        // New refund: it must fit in what is left of the payment, and the payment not be reversed.
        if ((await this.deps.journal.op('payment-reversal', req.paymentId)).length > 0) return declined(Code.invalidTransaction);
        const refunded = await this.deps.journal.refundedFen(req.paymentId);
        if (refunded + req.amount > original.amountFen) return declined(Code.invalidAmount);
      }
      return this.deps.authorizer.execute({
        opKind: 'refund',
        opId: req.refundId,
        requestHash: requestHash({ paymentId: req.paymentId, amount: req.amount, terminalMerchant: t.merchantId }),
        cardNo: original.cardNo!,
        terminalId: t.terminalId,
        businessDate: already[0]?.businessDate ?? businessDateOf(this.deps.clock.now()),
        gate: { type: 'credit', purseFen: req.amount, medicalFen: 0n, dailyGiveBackFen: 0n, requireActive: false },
        legs: [{ debit: { kind: 'payable', ownerId: original.creditOwner }, credit: { kind: 'purse', ownerId: original.cardNo! }, amountFen: req.amount }],
        detail: { paymentId: req.paymentId, merchantId: original.creditOwner, amount: req.amount.toString() },
        reply: (ids, purse) => ({ transactionId: transactionId(ids), balance: purse.toString() }),
      });
    });
  }

  /** The committed payment, only when it was made at this terminal's merchant. */
  private async originalPayment(t: TerminalContext, paymentId: string) {
    const legs = await this.deps.journal.op('payment', paymentId);
    const leg = legs[0];
    if (!leg || leg.creditOwner !== t.merchantId || !leg.cardNo) return null;
    return leg;
  }
}
