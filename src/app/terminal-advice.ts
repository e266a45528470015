// Offline purchase advices: a purchase a POS terminal already completed without us (DESIGN §11).
// It is booked once even when it takes the purse below zero (the goods are gone; the debt blocks
// the card until a top-up), within bounds: above the offline floor limit it is refused (13: a
// terminal may not approve that much alone), and the debt it may make is capped (offlineDebtMax,
// checked in the gate with the debit); past the cap → 51 and the card is hot-listed. A card that is
// lost, blocked or expired is still refused: the terminal's hotlist should have caught it.
import type { Authorizer, MoneyOutcome } from './authorizer.js';
import { authCodeOf, transactionId } from './money.js';
import type { TerminalContext } from './terminal.js';
import type { DebtHotlist } from './ports/terminal.js';
import { businessDateOf } from '../domain/business-day.js';
import { isValidCardNo, maskCardNo } from '../domain/card-number.js';
import { Code } from '../domain/codes.js';
import type { PaymentLimits } from '../domain/payment-policy.js';
import { terminalMay } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';
import type { Logger } from '../platform/logger.js';

export interface OfflineAdviceDeps {
  authorizer: Pick<Authorizer, 'execute'>;
  clock: Clock;
  limits: PaymentLimits;
  /** Cards that advices leave in debt (or would take past the debt maximum) are listed here for readers. */
  hotlist: DebtHotlist;
  log: Logger;
}

export class OfflineAdvices {
  constructor(private readonly deps: OfflineAdviceDeps) {}

  /** Books an offline purchase of a POS terminal; `adviceId` is its client id (idempotent by it). */
  async advise(t: TerminalContext, req: { adviceId: string; cardNo: string; amount: bigint }): Promise<MoneyOutcome> {
    const { cardNo, amount } = req;
    if (!terminalMay(t, 'payment') || !t.merchantId) return { kind: 'declined', code: Code.notPermittedTerminal };
    if (!isValidCardNo(cardNo)) return { kind: 'declined', code: Code.invalidCard };
    const limits = this.deps.limits;
    if (amount <= 0n || amount > limits.perTransactionMaxFen || amount > limits.offlineFloorMaxFen) return { kind: 'declined', code: Code.invalidAmount };
    const merchantId = t.merchantId;
    const outcome = await this.deps.authorizer.execute({
      opKind: 'payment',
      opId: req.adviceId,
      requestHash: requestHash({ cardNo, amount, terminalId: t.terminalId, offline: true }),
      cardNo,
      terminalId: t.terminalId,
      businessDate: businessDateOf(this.deps.clock.now()),
      // No daily maximum: the purchase has happened; it still counts towards the day's spending.
      gate: { type: 'debit', purseFen: amount, medicalFen: 0n, dailyAddFen: amount, dailyMaxFen: 0n, allowDebt: true, debtMaxFen: limits.offlineDebtMaxFen },
      legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'payable', ownerId: merchantId }, amountFen: amount }],
      detail: { merchantId, amount: amount.toString(), offline: true },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), authCode: authCodeOf(ids[0]!), balance: purse.toString() }),
    });
    const inDebt = outcome.kind === 'approved' ? BigInt(String(outcome.reply.balance ?? '0')) < 0n : outcome.kind === 'declined' && outcome.code === Code.insufficientFunds;
    if (inDebt) await this.listForDebt(cardNo);
    return outcome;
  }

  /** Readers must stop the card offline too; a failed write is logged (the answer stands, the nightly hotlist job lists debt again). */
  private async listForDebt(cardNo: string): Promise<void> {
    await this.deps.hotlist.record(cardNo, true, 'debt').catch((error: unknown) => this.deps.log.error({ err: error, card: maskCardNo(cardNo) }, 'iso: could not hot-list a card in offline debt'));
  }
}
