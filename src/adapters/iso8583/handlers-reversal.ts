// 0400 reversal and 0420 reversal advice: the original is this terminal's request with the STAN
// and transmission date-time of field 90; its ISO key is the client id the reversal names
// (src/app/terminal-reversal.ts reverses it by the kind of command it was).
import type { ReversedKind } from '../../app/terminal-reversal.js';
import { Code } from '../../domain/codes.js';
import { parseOriginalData } from './fields.js';
import { isoKeyText, type IsoOp } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';
import { moneyAnswer, type FinancialDeps } from './handlers-financial.js';

/** How a reversal waits for its original when both are in flight in this process. */
export type InflightLookup = (keyText: string) => Promise<unknown> | undefined;

/** The kind of command each ISO operation was. */
const reversedKindOf: Partial<Record<IsoOp, ReversedKind>> = { purchase: 'payment', advice: 'payment', topup: 'topup', refund: 'refund', medical: 'medical' };

export class Reversal0400 implements FinancialHandler {
  constructor(
    private readonly deps: FinancialDeps,
    private readonly inflightOriginal: InflightLookup,
    private readonly op: 'reversal' | 'reversal-advice',
  ) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    const f90 = text(req.msg, 90);
    const original = f90 === undefined ? null : parseOriginalData(f90);
    if (!original) return answer(Code.formatError);
    return { op: this.op, originalKey: isoKeyText({ terminalId: req.key.terminalId, stan: original.stan, transmitted: original.transmitted }) };
  }

  async run(req: IsoRequest): Promise<Answer> {
    const t = req.terminal.context;
    const o = parseOriginalData(text(req.msg, 90)!)!;
    const key = { terminalId: req.key.terminalId, stan: o.stan, transmitted: o.transmitted };
    const keyText = isoKeyText(key);
    let authCode: string | undefined;
    let kind = 'other' as ReversedKind;
    const outcome = await this.deps.reversals.reverse(t, keyText, async () => {
      // The terminal timed out while its original is still being processed here: let it finish first.
      await this.inflightOriginal(keyText)?.catch(() => undefined);
      await this.deps.store.completionsWritten(); // the original's answer (its F38) may be in flight
      const original = await this.deps.store.original(key);
      if (!original) return null;
      authCode = original.response?.['38'];
      kind = reversedKindOf[original.op] ?? 'other';
      return kind;
    });
    // The answer's auth code is the original's, when it had one.
    const withAuth = (): Record<number, string> => (authCode ? { 38: authCode } : {});
    // A cancelled medical claim answers without balances (as a 290000 cancel does).
    if (kind === 'medical' && outcome.kind === 'approved') return answer(Code.approved, withAuth());
    return moneyAnswer(outcome, withAuth);
  }
}
