// Reversals of a POS terminal's commands (0400/0420 over ISO 8583): a purchase (online or offline
// advice) is reversed by the money service, a top-up or refund by the mirror-image debit of the
// purse, a medical settlement by cancelling its claim. The caller names the original's kind.
import type { Authorizer, MoneyOutcome } from './authorizer.js';
import { transactionId, type MoneyService } from './money.js';
import type { AccountKind } from './ports.js';
import type { ScopedOps } from './ports/terminal.js';
import type { TerminalContext } from './terminal.js';
import { businessDateOf } from '../domain/business-day.js';
import { Code } from '../domain/codes.js';
import { terminalMay } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';

/** What the original command was; 'other' (a balance inquiry, a batch…) cannot be reversed. */
export type ReversedKind = 'payment' | 'topup' | 'refund' | 'medical' | 'other';

export interface TerminalReversalDeps {
  money: Pick<MoneyService, 'reverse'>;
  authorizer: Pick<Authorizer, 'execute'>;
  journal: ScopedOps;
  clock: Clock;
  /** Cancels a medical claim (app/medical.ts), or null when the medical area is not installed. */
  medical: () => { cancel(t: TerminalContext, claimId: string): Promise<MoneyOutcome> } | null;
}

export class TerminalReversals {
  constructor(private readonly deps: TerminalReversalDeps) {}

  /**
   * Reverses the terminal's command `originalId`, whose kind `findOriginal` tells (null: no such
   * command, 25). It is asked only once the terminal may reverse at all.
   */
  async reverse(t: TerminalContext, originalId: string, findOriginal: () => Promise<ReversedKind | null>): Promise<MoneyOutcome> {
    if (!terminalMay(t, 'reversal')) return { kind: 'declined', code: Code.notPermittedTerminal };
    const kind = await findOriginal();
    if (kind === null) return { kind: 'declined', code: Code.originalNotFound };
    switch (kind) {
      case 'payment':
        return this.deps.money.reverse(t, originalId);
      case 'topup':
      case 'refund':
        return this.reverseCredit(t, kind, originalId);
      case 'medical': {
        const medical = this.deps.medical();
        return medical ? medical.cancel(t, originalId) : { kind: 'declined', code: Code.invalidTransaction };
      }
      default:
        return { kind: 'declined', code: Code.invalidTransaction };
    }
  }

  /**
   * Takes back what a top-up or refund put on the purse: a debit of the purse (never into debt:
   * if the money is spent, the reversal is declined 51) to the account the original came from.
   */
  private async reverseCredit(t: TerminalContext, opKind: 'topup' | 'refund', originalId: string): Promise<MoneyOutcome> {
    const leg = (await this.deps.journal.scopedOp(opKind, t.terminalId, originalId))[0];
    if (!leg || !leg.cardNo || leg.terminalId !== t.terminalId) return { kind: 'declined', code: Code.originalNotFound };
    const cardNo = leg.cardNo;
    return this.deps.authorizer.execute({
      opKind: `${opKind}-reversal`,
      opId: originalId,
      requestHash: requestHash({ originalId, opKind }),
      cardNo,
      terminalId: t.terminalId,
      businessDate: businessDateOf(this.deps.clock.now()),
      gate: { type: 'debit', purseFen: leg.amountFen, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: false },
      legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: leg.debitKind as AccountKind, ownerId: leg.debitOwner }, amountFen: leg.amountFen }],
      detail: { reversalOf: opKind, originalId, amount: leg.amountFen.toString() },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), balance: purse.toString() }),
    });
  }
}
