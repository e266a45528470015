// 0400 reversal and 0420 reversal advice: the original is this terminal's request with the STAN
// and transmission date-time of field 90. A purchase is reversed through the money service (its
// paymentId is the original's ISO key); a top-up or refund by the mirror-image command.
import type { MoneyOutcome } from '../../app/authorizer.js';
import { transactionId } from '../../app/money.js';
import { businessDateOf } from '../../domain/business-day.js';
import { Code } from '../../domain/codes.js';
import { terminalMay } from '../../domain/permissions.js';
import { requestHash } from '../../platform/hash.js';
import type { AccountKind } from '../../app/ports.js';
import { parseOriginalData } from './fields.js';
import { isoKeyText, type IsoOp } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';
import { moneyAnswer, type FinancialDeps } from './handlers-financial.js';

/** How a reversal waits for its original when both are in flight in this process. */
export type InflightLookup = (keyText: string) => Promise<unknown> | undefined;

export class Reversal0400 implements FinancialHandler {
  constructor(
    private readonly deps: FinancialDeps,
    private readonly inflightOriginal: InflightLookup,
    private readonly op: 'reversal' | 'reversal-advice',
    /** Reverses a medical settlement by cancelling its claim. */
    private readonly medical: { cancel(req: IsoRequest, claimId: string): Promise<Answer> } | null = null,
  ) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    const f90 = text(req.msg, 90);
    const original = f90 === undefined ? null : parseOriginalData(f90);
    if (!original) return answer(Code.formatError);
    return { op: this.op, originalKey: isoKeyText({ terminalId: req.key.terminalId, stan: original.stan, transmitted: original.transmitted }) };
  }

  async run(req: IsoRequest): Promise<Answer> {
    const t = req.terminal.context;
    if (!terminalMay(t, 'reversal')) return answer(Code.notPermittedTerminal);
    const o = parseOriginalData(text(req.msg, 90)!)!;
    const key = { terminalId: req.key.terminalId, stan: o.stan, transmitted: o.transmitted };
    const keyText = isoKeyText(key);
    // The terminal timed out while its original is still being processed here: let it finish first.
    await this.inflightOriginal(keyText)?.catch(() => undefined);
    await this.deps.store.completionsWritten(); // the original's answer (its F38) may be in flight
    const original = await this.deps.store.original(key);
    if (!original) return answer(Code.originalNotFound);
    const authCode = original.response?.['38'];
    // The answer's auth code is the original's, when it had one.
    const withAuth = (): Record<number, string> => (authCode ? { 38: authCode } : {});
    switch (original.op) {
      case 'purchase':
      case 'advice':
        return moneyAnswer(await this.deps.money.reverse(t, keyText), withAuth);
      case 'topup':
        return moneyAnswer(await this.reverseCredit(req, 'topup', keyText), withAuth);
      case 'refund':
        return moneyAnswer(await this.reverseCredit(req, 'refund', keyText), withAuth);
      case 'medical':
        return this.medical ? this.medical.cancel(req, keyText) : answer(Code.invalidTransaction);
      default:
        return answer(Code.invalidTransaction);
    }
  }

  /**
   * Takes back what a top-up or refund put on the purse: a debit of the purse (never into debt:
   * if the money is spent, the reversal is declined 51) to the account the original came from.
   */
  private async reverseCredit(req: IsoRequest, opKind: 'topup' | 'refund', originalId: string): Promise<MoneyOutcome> {
    const leg = (await this.deps.journal.scopedOp(opKind, req.terminal.context.terminalId, originalId))[0];
    if (!leg || !leg.cardNo || leg.terminalId !== req.terminal.context.terminalId) return { kind: 'declined', code: Code.originalNotFound };
    const cardNo = leg.cardNo;
    return this.deps.authorizer.execute({
      opKind: `${opKind}-reversal`,
      opId: originalId,
      requestHash: requestHash({ originalId, opKind }),
      cardNo,
      terminalId: req.terminal.context.terminalId,
      businessDate: businessDateOf(this.deps.clock.now()),
      gate: { type: 'debit', purseFen: leg.amountFen, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: false },
      legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: leg.debitKind as AccountKind, ownerId: leg.debitOwner }, amountFen: leg.amountFen }],
      detail: { reversalOf: opKind, originalId, amount: leg.amountFen.toString() },
      reply: (ids, purse) => ({ transactionId: transactionId(ids), balance: purse.toString() }),
    });
  }
}
