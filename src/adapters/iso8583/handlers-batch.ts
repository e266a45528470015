// 0500 batch totals: the terminal's purchase count and amount (debits, F76/F88) and its refunds and
// top-ups (credits, F74/F86) against the ledger's count of the same batch → 00 equal, 95 not
// (the reconciliation itself: src/app/batch-totals.ts).
import type { BatchReconciliation, BatchTotals } from '../../app/batch-totals.js';
import { Code } from '../../domain/codes.js';
import type { IsoOp } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';

/** terminal_totals keeps counts as int4. */
const countMax = 2_147_483_647n;

export class Batch0500 implements FinancialHandler {
  constructor(private readonly batches: BatchReconciliation) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    if (!/^\d{1,12}$/.test(text(req.msg, 60) ?? '')) return answer(Code.formatError);
    const reported = reportedTotals(req);
    if (reported.debitCount > countMax || reported.creditCount > countMax) return answer(Code.formatError);
    return { op: 'batch', originalKey: null };
  }

  async run(req: IsoRequest): Promise<Answer> {
    const equal = await this.batches.reconcile(req.key.terminalId, text(req.msg, 60)!, reportedTotals(req));
    return answer(equal ? Code.approved : Code.reconcileError);
  }
}

/** F74/F86 credits, F76/F88 debits; an absent field counts as zero. */
function reportedTotals(req: IsoRequest): BatchTotals {
  const n = (no: number) => BigInt(text(req.msg, no) ?? '0');
  return { debitCount: n(76), debitAmount: n(88), creditCount: n(74), creditAmount: n(86) };
}
