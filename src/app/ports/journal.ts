// Reads of the append-only journal the use cases need (implemented by adapters/postgres/journal.ts).

export interface TransferView {
  transferId: bigint;
  opKind: string;
  opScope: string;
  opId: string;
  leg: number;
  amountFen: bigint;
  cardNo: string | null;
  terminalId: string | null;
  businessDate: string;
  createdAt: Date;
  detail: Record<string, unknown>;
  debitKind: string;
  debitOwner: string;
  creditKind: string;
  creditOwner: string;
}

export interface TrialBalance {
  balanced: boolean;
  total: bigint;
  accounts: { kind: string; count: number; balance: bigint }[];
  mismatched: { accountId: bigint; kind: string; ownerId: string; balance: bigint; postings: bigint }[];
}

export interface JournalReads {
  op(opKind: string, opId: string): Promise<TransferView[]>;
  scopedOp(opKind: string, opScope: string, opId: string): Promise<TransferView[]>;
  refundedFen(paymentScope: string, paymentId: string): Promise<bigint>;
  history(cardNo: string, limit: number, beforeId: bigint | null): Promise<TransferView[]>;
  trialBalance(): Promise<TrialBalance>;
}
