// Medical settlements over ISO 8583 (the processing codes proposed in docs/medical.md): 0200 with
// 190000/191000 settle, 390000/391000 presettle, 290000 cancel; the claim's items in field 48.
// The claimId is the request's ISO key, so a retransmission is the same claim.
import type { MedicalService } from '../../app/medical.js';
import type { MoneyOutcome } from '../../app/authorizer.js';
import { authCodeOf } from '../../app/money.js';
import { Code } from '../../domain/codes.js';
import type { MedicalItem } from '../../domain/medical/index.js';
import { AccountType, amountTypePaid, balanceEntry, parseOriginalData } from './fields.js';
import { isoKeyText, type IsoOp } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';
import type { FinancialDeps } from './handlers-financial.js';

/** Field 3 of the medical requests. The 4th digit 1 (the purse's account type) means "use the purse". */
export const MedicalProcessingCode = {
  settle: '190000',
  settleUsingPurse: '191000',
  cancel: '290000',
  presettle: '390000',
  presettleUsingPurse: '391000',
} as const;

export const medicalProcessingCodes: readonly string[] = Object.values(MedicalProcessingCode);

/** Items of field 48: `<code>,<amount fen>,<E|N>` joined by `;`. Null when malformed. */
export function parseItems(field48: string): MedicalItem[] | null {
  const items: MedicalItem[] = [];
  for (const part of field48.split(';')) {
    const m = /^([^,;]{1,64}),([1-9]\d{0,12}),([EN])$/.exec(part);
    if (!m) return null;
    items.push({ code: m[1]!, amountFen: BigInt(m[2]!), eligible: m[3] === 'E' });
  }
  return items;
}

export function formatItems(items: readonly MedicalItem[]): string {
  return items.map((i) => `${i.code},${i.amountFen},${i.eligible ? 'E' : 'N'}`).join(';');
}

interface Split {
  fund: bigint;
  personal: bigint;
  purse: bigint;
  cash: bigint;
}

export class Medical0200 implements FinancialHandler {
  readonly codes = medicalProcessingCodes;

  constructor(
    private readonly deps: FinancialDeps,
    /** The medical area's service (src/wiring/medical.ts), or null when that area is not installed. */
    private readonly medical: () => MedicalService | null,
  ) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    const pc = text(req.msg, 3);
    if (pc === MedicalProcessingCode.cancel) {
      const original = parseOriginalData(text(req.msg, 90) ?? '');
      if (!original) return answer(Code.formatError);
      return { op: 'medical', originalKey: isoKeyText({ terminalId: req.key.terminalId, stan: original.stan, transmitted: original.transmitted }) };
    }
    const claim = this.claimOf(req);
    return 'code' in claim ? claim : { op: 'medical', originalKey: null };
  }

  async run(req: IsoRequest): Promise<Answer> {
    const service = this.medical();
    if (!service) return answer(Code.invalidTransaction);
    const t = req.terminal.context;
    const pc = text(req.msg, 3);
    if (pc === MedicalProcessingCode.cancel) {
      const o = parseOriginalData(text(req.msg, 90)!)!;
      return this.cancel(req, isoKeyText({ terminalId: req.key.terminalId, stan: o.stan, transmitted: o.transmitted }));
    }
    const claim = this.claimOf(req);
    if ('code' in claim) return claim;
    const usePurse = pc === MedicalProcessingCode.settleUsingPurse || pc === MedicalProcessingCode.presettleUsingPurse;
    const request = { claimId: req.keyText, cardNo: claim.cardNo, items: claim.items, usePurse };
    if (pc === MedicalProcessingCode.presettle || pc === MedicalProcessingCode.presettleUsingPurse) {
      const outcome = await service.presettle(t, request);
      if (outcome.kind === 'declined') return answer(outcome.code);
      return this.approved(claim.cardNo, outcome.split, authCodeOf(BigInt(req.key.stan)));
    }
    const outcome = await service.settle(t, request);
    if (outcome.kind !== 'approved') return declinedAnswer(outcome);
    const r = outcome.reply;
    const split = { fund: BigInt(String(r.fund)), personal: BigInt(String(r.personal)), purse: BigInt(String(r.purse)), cash: BigInt(String(r.cash)) };
    // All in cash moves nothing in the ledger and has no transaction id: the STAN stands in.
    const auth = authCodeOf(r.transactionId !== undefined ? BigInt(String(r.transactionId)) : BigInt(req.key.stan));
    return this.approved(claim.cardNo, split, auth);
  }

  /** 290000, and a 0400/0420 whose original is a settlement: cancel that claim. */
  async cancel(req: IsoRequest, claimId: string): Promise<Answer> {
    const service = this.medical();
    if (!service) return answer(Code.invalidTransaction);
    const outcome = await service.cancel(req.terminal.context, claimId);
    if (outcome.kind !== 'approved') return declinedAnswer(outcome);
    await this.deps.store.completionsWritten();
    const original = await this.deps.store.original({ terminalId: req.key.terminalId, stan: claimId.split(':')[1]!, transmitted: claimId.split(':')[2]! });
    const fields: Record<number, string> = {};
    if (original?.response?.['38']) fields[38] = original.response['38'];
    return answer(Code.approved, fields);
  }

  private claimOf(req: IsoRequest): { cardNo: string; items: MedicalItem[] } | Answer {
    const cardNo = text(req.msg, 2);
    const total = text(req.msg, 4);
    const f48 = text(req.msg, 48);
    if (cardNo === undefined || total === undefined || f48 === undefined) return answer(Code.formatError);
    const items = parseItems(f48);
    if (!items) return answer(Code.formatError);
    if (items.reduce((sum, i) => sum + i.amountFen, 0n) !== BigInt(total)) return answer(Code.invalidAmount);
    return { cardNo, items };
  }

  /** 00 with 38 and 54: what each side pays (fund, medical account, purse, cash), then the balances after. */
  private async approved(cardNo: string, split: Split, authCode: string): Promise<Answer> {
    const balances = await this.deps.cards.balance(cardNo);
    const paid =
      balanceEntry(AccountType.fund, split.fund, amountTypePaid) +
      balanceEntry(AccountType.medical, split.personal, amountTypePaid) +
      balanceEntry(AccountType.purse, split.purse, amountTypePaid) +
      balanceEntry(AccountType.cash, split.cash, amountTypePaid);
    const after = balances ? balanceEntry(AccountType.purse, balances.purseFen) + balanceEntry(AccountType.medical, balances.medicalFen) : '';
    return answer(Code.approved, { 38: authCode, 54: paid + after });
  }
}

function declinedAnswer(outcome: Exclude<MoneyOutcome, { kind: 'approved' }>): Answer {
  return answer(outcome.kind === 'conflict' ? Code.duplicateDifferent : outcome.code);
}
