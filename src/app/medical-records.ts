// A medical claim as stored and as written on the ledger: the claims port, the legs of a settlement
// and of its cancellation, and the ledger detail a claim row is rebuilt from after a lost write.
import type { LedgerLeg } from './ports.js';
import type { MedicalItem, YearToDate } from '../domain/medical/index.js';
import { commandScope } from '../domain/command-scope.js';

export const settleOpKind = 'medical-settle';
export const cancelOpKind = 'medical-cancel';

/** A claimId's scope: the POS that settled it (DESIGN §11); the journal's op_scope of its commands. */
export function claimScopeOf(terminalId: string | null): string {
  return commandScope({ opKind: settleOpKind, terminalId });
}
/** A settled or cancelled claim as stored (amounts in fen). */
export interface ClaimRecord {
  claimId: string;
  cardNo: string;
  citizenId: bigint;
  merchantId: string;
  terminalId: string | null;
  businessDate: string;
  year: number;
  status: 'settled' | 'cancelled';
  items: MedicalItem[];
  usePurse: boolean;
  totalFen: bigint;
  fundFen: bigint;
  personalFen: bigint;
  purseFen: bigint;
  cashFen: bigint;
  deductiblePartFen: bigint;
  requestHash: string;
  transferId: bigint | null;
  settledAt: Date;
  cancelledAt: Date | null;
}

export type NewClaim = Omit<ClaimRecord, 'status' | 'cancelledAt'>;

/** The first leg of a medical ledger command whose effect on the claims table is missing. */
export interface LedgerMedicalOp {
  opKind: typeof settleOpKind | typeof cancelOpKind;
  opId: string;
  /** The claim's scope (its POS); for a cancellation, the scope of the claim it cancels. */
  claimScope: string;
  transferId: bigint;
  cardNo: string | null;
  terminalId: string | null;
  businessDate: string;
  requestHash: string;
  detail: Record<string, unknown>;
  createdAt: Date;
}

/** The claims store (PostgreSQL); every write is idempotent by (scope, claimId): a claimId is its POS's own. */
export interface MedicalClaims {
  claim(scope: string, claimId: string): Promise<ClaimRecord | null>;
  ytd(citizenId: bigint, year: number): Promise<YearToDate>;
  /** Inserts the claim and adds its parts to the year-to-date, atomically; false if it existed. */
  recordSettlement(claim: NewClaim): Promise<boolean>;
  /** Marks a settled claim cancelled and takes its parts back from its year (reverseYtd), atomically. */
  recordCancellation(scope: string, claimId: string, at: Date): Promise<boolean>;
  ledgerSettlement(scope: string, claimId: string): Promise<LedgerMedicalOp | null>;
  orphansOf(citizenId: bigint): Promise<LedgerMedicalOp[]>;
  orphansSince(businessDate: string, afterTransferId: bigint, limit: number): Promise<LedgerMedicalOp[]>;
}

/** What a settlement writes on each of its ledger legs: everything claimFromLedger needs, and the
 * explanation shown in the card's history. */
export function settleDetail(claim: NewClaim, explanation: string[]): Record<string, unknown> {
  return {
    claimId: claim.claimId,
    citizenId: claim.citizenId.toString(),
    year: claim.year,
    merchantId: claim.merchantId,
    usePurse: claim.usePurse,
    total: claim.totalFen.toString(),
    fund: claim.fundFen.toString(),
    personal: claim.personalFen.toString(),
    purse: claim.purseFen.toString(),
    cash: claim.cashFen.toString(),
    deductiblePart: claim.deductiblePartFen.toString(),
    items: claim.items.map((i) => ({ code: i.code, amount: i.amountFen.toString(), eligible: i.eligible })),
    explanation,
  };
}

/** Fund, medical account and purse to the merchant; zero legs are left out (transfers are positive). */
export function settleLegs(c: NewClaim): LedgerLeg[] {
  const payable = { kind: 'payable' as const, ownerId: c.merchantId };
  const legs: LedgerLeg[] = [];
  if (c.fundFen > 0n) legs.push({ debit: { kind: 'medical_fund', ownerId: '' }, credit: payable, amountFen: c.fundFen });
  if (c.personalFen > 0n) legs.push({ debit: { kind: 'medical', ownerId: c.cardNo }, credit: payable, amountFen: c.personalFen });
  if (c.purseFen > 0n) legs.push({ debit: { kind: 'purse', ownerId: c.cardNo }, credit: payable, amountFen: c.purseFen });
  return legs;
}

/** The settlement's legs reversed, to the card (or its replacement) and the fund. */
export function cancelLegs(c: ClaimRecord, cardNo: string): LedgerLeg[] {
  const payable = { kind: 'payable' as const, ownerId: c.merchantId };
  const legs: LedgerLeg[] = [];
  if (c.fundFen > 0n) legs.push({ debit: payable, credit: { kind: 'medical_fund', ownerId: '' }, amountFen: c.fundFen });
  if (c.personalFen > 0n) legs.push({ debit: payable, credit: { kind: 'medical', ownerId: cardNo }, amountFen: c.personalFen });
  if (c.purseFen > 0n) legs.push({ debit: payable, credit: { kind: 'purse', ownerId: cardNo }, amountFen: c.purseFen });
  return legs;
}

export function citizenOf(op: LedgerMedicalOp): bigint | null {
  const raw = op.detail.citizenId;
  return typeof raw === 'string' && /^\d{1,18}$/.test(raw) ? BigInt(raw) : null;
}

function fenOf(value: unknown): bigint | null {
  return typeof value === 'string' && /^\d{1,18}$/.test(value) ? BigInt(value) : null;
}

/** Rebuilds a claim row from the detail its settlement wrote on the ledger (settleCommand). */
export function claimFromLedger(op: LedgerMedicalOp): NewClaim | null {
  const d = op.detail;
  const citizenId = citizenOf(op);
  const [total, fund, personal, purse, cash, deductiblePart] = ['total', 'fund', 'personal', 'purse', 'cash', 'deductiblePart'].map((k) => fenOf(d[k]));
  if (citizenId === null || !op.cardNo || typeof d.merchantId !== 'string' || typeof d.year !== 'number' || !Array.isArray(d.items)) return null;
  if (total == null || fund == null || personal == null || purse == null || cash == null || deductiblePart == null) return null;
  const items: MedicalItem[] = [];
  for (const raw of d.items as { code?: unknown; amount?: unknown; eligible?: unknown }[]) {
    const amountFen = fenOf(raw.amount);
    if (typeof raw.code !== 'string' || amountFen === null || typeof raw.eligible !== 'boolean') return null;
    items.push({ code: raw.code, amountFen, eligible: raw.eligible });
  }
  return {
    claimId: op.opId,
    cardNo: op.cardNo,
    citizenId,
    merchantId: d.merchantId,
    terminalId: op.terminalId,
    businessDate: op.businessDate,
    year: d.year,
    items,
    usePurse: d.usePurse === true,
    totalFen: total,
    fundFen: fund,
    personalFen: personal,
    purseFen: purse,
    cashFen: cash,
    deductiblePartFen: deductiblePart,
    requestHash: op.requestHash,
    transferId: op.transferId,
    settledAt: op.createdAt,
  };
}
