// 0200 (purchase, refund, top-up, balance inquiry) and 0220 (offline purchase advice): each request
// becomes one money command whose client id is the ISO key, so the money layer's idempotency and
// the gateway's duplicate record agree.
import type { MoneyOutcome } from '../../app/authorizer.js';
import type { CardQueries } from '../../app/card-queries.js';
import { authCodeOf, type MoneyService } from '../../app/money.js';
import type { OfflineAdvices } from '../../app/terminal-advice.js';
import type { TerminalReversals } from '../../app/terminal-reversal.js';
import type { ScopedOps } from '../../app/ports/terminal.js';
import { isValidCardNo } from '../../domain/card-number.js';
import { Code } from '../../domain/codes.js';
import { fieldBytes } from './codec.js';
import { ProcessingCode } from './spec.js';
import { AccountType, balanceEntry, parseOriginalData, rrnOf } from './fields.js';
import { isoKeyText, type IsoOp, type IsoStore } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';

export interface FinancialDeps {
  money: MoneyService;
  advices: OfflineAdvices;
  reversals: TerminalReversals;
  cards: CardQueries;
  /** A refund that names its card (F2) must name the purchase's card. */
  journal: ScopedOps;
  store: IsoStore;
}

/** n12 amount → fen; undefined when absent. */
export function amountOf(req: IsoRequest): bigint | undefined {
  const value = text(req.msg, 4);
  return value === undefined ? undefined : BigInt(value);
}

/** An auth code for answers that move no money (balance inquiry): six digits from the key. */
function inquiryAuthCode(keyText: string): string {
  let h = 0;
  for (let i = 0; i < keyText.length; i++) h = (h * 31 + keyText.charCodeAt(i)) % 1_000_000;
  return String(h).padStart(6, '0');
}

/** The answer of a money outcome: 00 with F38 and F54 (purse after), the decline code, or 94. */
export function moneyAnswer(outcome: MoneyOutcome, extra: (reply: Record<string, unknown>) => Record<number, string> = () => ({})): Answer {
  if (outcome.kind === 'conflict') return answer(Code.duplicateDifferent);
  if (outcome.kind === 'declined') return answer(outcome.code);
  const reply = outcome.reply;
  const fields: Record<number, string> = { 54: balanceEntry(AccountType.purse, BigInt(String(reply.balance ?? '0'))) };
  if (reply.authCode !== undefined) fields[38] = String(reply.authCode);
  else if (reply.transactionId !== undefined) fields[38] = authCodeOf(BigInt(String(reply.transactionId)));
  return { code: Code.approved, fields: { ...fields, ...extra(reply) } };
}

const requiresCard = (req: IsoRequest): string | Answer => text(req.msg, 2) ?? answer(Code.formatError);
const requiresAmount = (req: IsoRequest): bigint | Answer => amountOf(req) ?? answer(Code.formatError);

export class Purchase0200 implements FinancialHandler {
  constructor(
    private readonly deps: FinancialDeps,
    /** Handles the medical processing codes (handlers-medical.ts), when the medical area is there. */
    private readonly medical: FinancialHandler & { codes: readonly string[] } | null = null,
  ) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    const pc = text(req.msg, 3);
    if (pc !== undefined && this.medical?.codes.includes(pc)) return this.medical.classify(req);
    const needs = (...nos: number[]) => nos.every((no) => req.msg.fields.has(no));
    switch (pc) {
      case ProcessingCode.purchase:
        return needs(2, 4) ? { op: 'purchase', originalKey: null } : answer(Code.formatError);
      case ProcessingCode.topUp:
        return needs(2, 4) ? { op: 'topup', originalKey: null } : answer(Code.formatError);
      case ProcessingCode.refund:
        return needs(4) && (needs(37) || needs(90)) ? { op: 'refund', originalKey: null } : answer(Code.formatError);
      case ProcessingCode.balance:
        return needs(2) ? { op: 'balance', originalKey: null } : answer(Code.formatError);
      case undefined:
        return answer(Code.formatError);
      default:
        return answer(Code.invalidTransaction);
    }
  }

  async run(req: IsoRequest, op: IsoOp, ctx: { reversedBefore: boolean }): Promise<Answer> {
    const t = req.terminal.context;
    switch (op) {
      case 'purchase': {
        // Its reversal came first: the terminal has given up on it, so it must not take money now.
        if (ctx.reversedBefore) return answer(Code.invalidTransaction);
        const cardNo = requiresCard(req);
        const amount = requiresAmount(req);
        if (typeof cardNo !== 'string') return cardNo;
        if (typeof amount !== 'bigint') return amount;
        const pin = fieldBytes(req.msg, 52);
        const outcome = await this.deps.money.payment(t, { paymentId: req.keyText, cardNo, amount, pinBlock: pin?.toString('hex') });
        return withRrn(req, moneyAnswer(outcome, assignRrn(req)));
      }
      case 'topup': {
        const cardNo = requiresCard(req);
        const amount = requiresAmount(req);
        if (typeof cardNo !== 'string') return cardNo;
        if (typeof amount !== 'bigint') return amount;
        return moneyAnswer(await this.deps.money.topup(t, { topupId: req.keyText, cardNo, amount, channel: 'counter' }));
      }
      case 'refund':
        return this.refund(req);
      case 'balance':
        return this.balance(req);
      case 'medical':
        return this.medical ? this.medical.run(req, op, ctx) : answer(Code.invalidTransaction);
      default:
        return answer(Code.invalidTransaction);
    }
  }

  /** A refund names its purchase by F90 (this terminal's STAN and F7) or else by its RRN (F37) at this merchant. */
  private async refund(req: IsoRequest): Promise<Answer> {
    const t = req.terminal.context;
    const amount = requiresAmount(req);
    if (typeof amount !== 'bigint') return amount;
    let paymentId: string | null;
    let paymentTerminalId: string | undefined; // an RRN may name a purchase at another terminal of the merchant
    const f90 = text(req.msg, 90);
    if (f90 !== undefined) {
      const original = parseOriginalData(f90);
      if (!original) return answer(Code.formatError);
      paymentId = isoKeyText({ terminalId: t.terminalId, stan: original.stan, transmitted: original.transmitted });
    } else {
      const rrn = text(req.msg, 37)!;
      let found = await this.deps.store.purchaseByRrn(t.merchantId!, rrn);
      if (!found) {
        // The purchase may have been answered a moment ago, its record not written yet.
        await this.deps.store.completionsWritten();
        found = await this.deps.store.purchaseByRrn(t.merchantId!, rrn);
      }
      paymentId = found ? isoKeyText(found) : null;
      paymentTerminalId = found?.terminalId;
    }
    if (!paymentId) return answer(Code.originalNotFound);
    const cardNo = text(req.msg, 2);
    if (cardNo !== undefined) {
      const legs = await this.deps.journal.scopedOp('payment', paymentTerminalId ?? t.terminalId, paymentId);
      if (legs[0] && legs[0].cardNo !== cardNo) return answer(Code.originalNotFound);
    }
    return moneyAnswer(await this.deps.money.refund(t, { refundId: req.keyText, paymentId, amount, paymentTerminalId }));
  }

  private async balance(req: IsoRequest): Promise<Answer> {
    const cardNo = text(req.msg, 2)!;
    if (!isValidCardNo(cardNo)) return answer(Code.invalidCard);
    const state = await this.deps.cards.balance(cardNo);
    if (!state) return answer(Code.invalidCard);
    if (state.status === 'lost') return answer(Code.lostCard);
    if (state.status !== 'active') return answer(Code.blockedCard);
    // The medical account only matters (and is only shown) at a medical merchant.
    const medical = req.terminal.context.merchantCategory === 'medical' ? balanceEntry(AccountType.medical, state.medicalFen) : '';
    return answer(Code.approved, { 38: inquiryAuthCode(req.keyText), 54: balanceEntry(AccountType.purse, state.purseFen) + medical });
  }
}

/** An approved purchase keeps the request's RRN, or gets one (its transaction id) that a refund can quote. */
function assignRrn(req: IsoRequest): (reply: Record<string, unknown>) => Record<number, string> {
  return (reply): Record<number, string> => (text(req.msg, 37) === undefined && reply.transactionId !== undefined ? { 37: rrnOf(String(reply.transactionId)) } : {});
}

function withRrn(req: IsoRequest, result: Answer): Answer {
  if (result.code !== Code.approved) return result;
  const rrn = text(req.msg, 37) ?? result.fields?.[37];
  return rrn === undefined ? result : { ...result, rrn };
}

/** 0220: a purchase the terminal already completed offline (src/app/terminal-advice.ts books it). */
export class Advice0220 implements FinancialHandler {
  constructor(private readonly deps: FinancialDeps) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    const pc = text(req.msg, 3);
    if (pc !== ProcessingCode.purchase) return answer(pc === undefined ? Code.formatError : Code.invalidTransaction);
    return req.msg.fields.has(2) && req.msg.fields.has(4) ? { op: 'advice', originalKey: null } : answer(Code.formatError);
  }

  async run(req: IsoRequest, _op: IsoOp, ctx: { reversedBefore: boolean }): Promise<Answer> {
    // Its reversal came first: the terminal has taken it back, so it must not take money now.
    if (ctx.reversedBefore) return answer(Code.invalidTransaction);
    const outcome = await this.deps.advices.advise(req.terminal.context, { adviceId: req.keyText, cardNo: text(req.msg, 2)!, amount: amountOf(req)! });
    return withRrn(req, moneyAnswer(outcome, assignRrn(req)));
  }
}
