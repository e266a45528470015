// Ports the use cases need, declared by their users; adapters (postgres, redis) implement them.
import type { ResponseCode } from '../domain/codes.js';

export type AccountKind = 'purse' | 'medical' | 'receivable' | 'payable' | 'clearing' | 'medical_fund' | 'fees' | 'suspense' | 'settlement';

export interface AccountRef {
  kind: AccountKind;
  ownerId: string;
}

export interface LedgerLeg {
  debit: AccountRef;
  credit: AccountRef;
  amountFen: bigint;
}

export interface LedgerCommand {
  opKind: string;
  opId: string;
  requestHash: string;
  cardNo?: string | null;
  terminalId?: string | null;
  businessDate: string;
  legs: LedgerLeg[];
  detail?: Record<string, unknown>;
}

export type CommitOutcome =
  | { status: 'committed'; transferIds: bigint[] }
  | { status: 'duplicate'; transferIds: bigint[]; requestHash: string; detail: Record<string, unknown> };

export interface Ledger {
  submit(command: LedgerCommand): Promise<CommitOutcome>;
}

/** What the authorization gate needs to know of a card, built from PostgreSQL on a cache miss. */
export interface CardSnapshot {
  cardNo: string;
  status: 'active' | 'lost' | 'blocked';
  cardType: 'adult' | 'student' | 'senior' | 'disabled';
  expiresOn: string;
  citizenId: bigint;
  purseFen: bigint;
  medicalFen: bigint;
  paymentDay: string;
  paymentSpentFen: bigint;
  pinFailures: number;
}

export interface CardSource {
  snapshot(cardNo: string, businessDate: string): Promise<CardSnapshot | null>;
}

export type GateDebit = {
  type: 'debit';
  purseFen: bigint;
  medicalFen: bigint;
  dailyAddFen: bigint;
  dailyMaxFen: bigint;
  allowDebt: boolean;
};

export type GateCredit = {
  type: 'credit';
  purseFen: bigint;
  medicalFen: bigint;
  dailyGiveBackFen: bigint;
  requireActive: boolean;
};

export type GateResult =
  | { kind: 'ok'; purseFen: bigint; medicalFen: bigint }
  | { kind: 'declined'; code: ResponseCode }
  | { kind: 'duplicate'; record: OpRecord }
  | { kind: 'missing-card' };

/** The idempotency record of one command: pending until committed, then its final answer. */
export interface OpRecord {
  s: 'p' | 'f' | 'd';
  h: string;
  r?: Record<string, unknown>;
}
