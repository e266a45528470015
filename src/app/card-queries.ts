// Read side of a card: its balances (the Redis view when cached, else the ledger) and history
// (the ledger, newest first, with the fare explanations stored on each transfer).
import type { CardGatePort } from './ports/gate.js';
import type { JournalReads, TransferView } from './ports/journal.js';
import type { RegistryStore } from './ports/registry.js';
import { fenToJson } from '../domain/money.js';

export interface TransactionItem {
  transactionId: string;
  kind: string;
  reference: string;
  account: 'purse' | 'medical';
  amount: number;
  businessDate: string;
  createdAt: string;
  terminalId: string | null;
  explanation?: string[];
  detail?: Record<string, unknown>;
}

const publicDetailKeys = ['merchantId', 'paymentId', 'channel', 'routeId', 'stationId', 'journeyId', 'claimId', 'direction', 'fare', 'entryStationId', 'exitStationId'];

export function toItem(cardNo: string, t: TransferView): TransactionItem {
  const credit = t.creditOwner === cardNo && (t.creditKind === 'purse' || t.creditKind === 'medical');
  const account = (credit ? t.creditKind : t.debitKind) as 'purse' | 'medical';
  const detail: Record<string, unknown> = {};
  for (const key of publicDetailKeys) if (t.detail[key] !== undefined) detail[key] = t.detail[key];
  const explanation = Array.isArray(t.detail.explanation) ? (t.detail.explanation as string[]) : undefined;
  return {
    transactionId: t.transferId.toString(),
    kind: t.opKind,
    reference: t.opId,
    account,
    amount: fenToJson(credit ? t.amountFen : -t.amountFen),
    businessDate: t.businessDate,
    createdAt: t.createdAt.toISOString(),
    terminalId: t.terminalId,
    ...(explanation ? { explanation } : {}),
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
}

export class CardQueries {
  constructor(
    private readonly gate: Pick<CardGatePort, 'cachedState'>,
    private readonly registry: Pick<RegistryStore, 'card' | 'balances'>,
    private readonly journal: Pick<JournalReads, 'history'>,
  ) {}

  async balance(cardNo: string): Promise<{ status: string; purseFen: bigint; medicalFen: bigint } | null> {
    const cached = await this.gate.cachedState(cardNo).catch(() => ({}) as Record<string, string>);
    if (cached.st && cached.pu !== undefined && cached.me !== undefined) {
      return { status: cached.st, purseFen: BigInt(cached.pu), medicalFen: BigInt(cached.me) };
    }
    const card = await this.registry.card(cardNo);
    if (!card) return null;
    const { purse, medical } = await this.registry.balances(cardNo);
    return { status: card.status, purseFen: purse, medicalFen: medical };
  }

  async transactions(cardNo: string, limit: number, cursor: bigint | null): Promise<{ items: TransactionItem[]; nextCursor: string | null }> {
    // The card's own postings only (a replacement touches two cards; each sees its own side).
    const rows = await this.journal.history(cardNo, limit, cursor);
    const items = rows.filter((t) => t.creditOwner === cardNo || t.debitOwner === cardNo).map((t) => toItem(cardNo, t));
    const last = rows[rows.length - 1];
    return { items, nextCursor: rows.length === limit && last ? last.transferId.toString() : null };
  }
}
