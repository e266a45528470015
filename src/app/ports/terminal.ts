// Ports of the POS terminal use cases (offline advices, reversals, batch totals, the terminal
// directory), declared by their users; implemented by adapters/postgres (hotlist.ts,
// batch-totals.ts, journal.ts, registry.ts).
import type { TransferView } from './journal.js';
import type { RegistryStore } from './registry.js';

/** The card hotlist readers download: an offline advice that leaves a card in debt lists it (adapters/postgres/hotlist.ts). */
export interface DebtHotlist {
  record(cardNo: string, listed: boolean, reason: 'debt'): Promise<void>;
}

/** The journal lookup a reversal needs: the legs of a terminal's command (adapters/postgres/journal.ts). */
export interface ScopedOps {
  scopedOp(opKind: string, opScope: string, opId: string): Promise<TransferView[]>;
}

/** A batch's counts and amounts: debits are purchases (incl. offline advices), credits refunds and top-ups. */
export interface BatchTotals {
  debitCount: bigint;
  debitAmount: bigint;
  creditCount: bigint;
  creditAmount: bigint;
}

/** The transfers a batch covers: after `fromTransferId`, up to and including `toTransferId`. */
export interface BatchWindow {
  fromTransferId: bigint;
  toTransferId: bigint;
}

export interface BatchRecord extends BatchWindow {
  terminalId: string;
  businessDate: string;
  batchNo: string;
  reported: BatchTotals;
  ledger: BatchTotals;
  accepted: boolean;
}

/** The terminal batches and the ledger's side of them (adapters/postgres/batch-totals.ts). */
export interface BatchTotalsStore {
  /** The terminal's latest accepted batch, if any. */
  lastAccepted(terminalId: string): Promise<(BatchWindow & { batchNo: string }) | null>;
  /** The terminal's highest transfer id after `fromExclusive` (itself when there is none). */
  windowEnd(terminalId: string, fromExclusive: bigint): Promise<bigint>;
  /** The ledger's totals of the terminal's transfers in the window, reversed ones left out. */
  ledgerTotals(terminalId: string, window: BatchWindow): Promise<BatchTotals>;
  /** Stores the report (final once accepted) and what the terminal reported for the reconcile job. */
  record(batch: BatchRecord): Promise<void>;
}

/** The registry reads the terminal directory makes (adapters/postgres/registry.ts). */
export type TerminalLookup = Pick<RegistryStore, 'terminal' | 'terminalByKeyHash'>;
