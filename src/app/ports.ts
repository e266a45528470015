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
  /** A transit tap's durable record, inserted in the same transaction (a tap may have no legs). */
  tap?: TapRow;
}

/** One row of `taps` (migrations/0003_iso_taps.sql, docs/transit.md). */
export interface TapRow {
  tapId: string;
  cardNo: string;
  terminalId: string;
  operatorId: string | null;
  mode: 'bus' | 'metro' | 'taxi';
  kind: 'bus' | 'metro-in' | 'metro-out' | 'taxi';
  routeId: string | null;
  stationId: string | null;
  tappedAt: Date;
  businessDate: string;
  fareFen: bigint;
  status: 'accepted' | 'rejected';
  code: string;
  journeyId: string | null;
  explanation: string[];
  uploaded: boolean;
  requestHash: string;
}

/** A command already in the ledger under its key (opKind, scope, opId): its first answer stands. */
export interface CommittedCommand {
  transferIds: bigint[];
  requestHash: string;
  detail: Record<string, unknown>;
}

export type CommitOutcome = { status: 'committed'; transferIds: bigint[] } | ({ status: 'duplicate' } & CommittedCommand);

/**
 * The group-committed ledger. `submit` settles only after the command's batch committed; its
 * expected refusals are the two errors below (anything else: the batch was rolled back).
 */
export interface Ledger {
  submit(command: LedgerCommand): Promise<CommitOutcome>;
}

/** The ledger refused the command before writing it (queue full, or closing): nothing moved. */
export class LedgerOverloadError extends Error {
  override name = 'LedgerOverloadError';
}

/**
 * The connection broke while COMMIT was in flight and PostgreSQL could not be asked afterwards
 * whether the transaction committed: the commands may or may not be in the ledger.
 */
export class LedgerOutcomeUnknownError extends Error {
  override name = 'LedgerOutcomeUnknownError';
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
  /** Registry concession: the business date from which cardType must be recomputed (docs/registry.md). */
  typeUntil?: string | null;
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
  /** With allowDebt: a lost or blocked card is charged too (offline rides made before it was reported; corrections). */
  ignoreCardStatus?: boolean;
  /**
   * With allowDebt: the deepest the purse may go (fen of debt); a debit that would go further is
   * declined 51, atomically in the gate. Absent: unbounded (uploaded transit taps: the ride happened).
   */
  debtMaxFen?: bigint;
  /**
   * Transit taps: the card's fare state (`keys.cardFare`, "<version>|<json>") is checked and set
   * with the debit: `expectedVersion` ('' = no state) must still be there, else the gate answers
   * stale; `previous` is the raw value it replaces (null = none), restored by an undo. A tap also
   * declines 51 on a purse in debt even when its fare is 0 (unless allowDebt).
   */
  fare?: { expectedVersion: string; next: string; previous: string | null };
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
  | { kind: 'missing-card' }
  /** The fare state changed since the tap was rated: re-read, re-rate, retry. */
  | { kind: 'stale' };

/** The idempotency record of one command: pending until committed, then its final answer. */
export interface OpRecord {
  s: 'p' | 'f' | 'd';
  h: string;
  r?: Record<string, unknown>;
}
