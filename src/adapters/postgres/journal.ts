// Reads of the append-only journal: a command's transfers, a card's history, the trial balance.
import type { Pool } from './db.js';
import type { JournalReads, TransferView, TrialBalance } from '../../app/ports/journal.js';

export type { TransferView } from '../../app/ports/journal.js';

const viewSelect = `SELECT t.transfer_id, t.op_kind, t.op_scope, t.op_id, t.leg, t.amount, t.card_no, t.terminal_id, t.business_date,
       t.created_at, t.detail, d.kind AS debit_kind, d.owner_id AS debit_owner, c.kind AS credit_kind, c.owner_id AS credit_owner
  FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id`;

function toView(row: Record<string, unknown>): TransferView {
  return {
    transferId: row.transfer_id as bigint,
    opKind: row.op_kind as string,
    opScope: row.op_scope as string,
    opId: row.op_id as string,
    leg: row.leg as number,
    amountFen: row.amount as bigint,
    cardNo: row.card_no as string | null,
    terminalId: row.terminal_id as string | null,
    businessDate: row.business_date as string,
    createdAt: row.created_at as Date,
    detail: row.detail as Record<string, unknown>,
    debitKind: row.debit_kind as string,
    debitOwner: row.debit_owner as string,
    creditKind: row.credit_kind as string,
    creditOwner: row.credit_owner as string,
  };
}

export const historyPageMax = 100;

export class Journal implements JournalReads {
  constructor(private readonly pool: Pool) {}

  async op(opKind: string, opId: string): Promise<TransferView[]> {
    const r = await this.pool.query(`${viewSelect} WHERE t.op_kind = $1 AND t.op_id = $2 ORDER BY t.leg`, [opKind, opId]);
    return r.rows.map(toView);
  }

  /** A command whose client id is scoped (DESIGN §11): its transfers under that scope. */
  async scopedOp(opKind: string, opScope: string, opId: string): Promise<TransferView[]> {
    const r = await this.pool.query(`${viewSelect} WHERE t.op_kind = $1 AND t.op_scope = $2 AND t.op_id = $3 ORDER BY t.leg`, [opKind, opScope, opId]);
    return r.rows.map(toView);
  }

  /**
   * Sum of refunds committed against a payment (its terminal and id). Refunds written before ids
   * were scoped carry no paymentScope: theirs is the refunding terminal, or the terminal an ISO
   * payment id (`terminal:stan:f7`) names.
   */
  async refundedFen(paymentScope: string, paymentId: string): Promise<bigint> {
    const r = await this.pool.query<{ total: bigint }>(
      `SELECT coalesce(sum(amount), 0)::bigint AS total FROM transfers
        WHERE op_kind = 'refund' AND detail->>'paymentId' = $2
          AND (detail->>'paymentScope' = $1 OR (detail->>'paymentScope' IS NULL AND (terminal_id = $1 OR starts_with($2, $1 || ':'))))`,
      [paymentScope, paymentId],
    );
    return r.rows[0]!.total;
  }

  /** A card's transfers, newest first; the cursor is the last transfer id of the previous page. */
  async history(cardNo: string, limit: number, beforeId: bigint | null): Promise<TransferView[]> {
    const r = await this.pool.query(
      `${viewSelect} WHERE t.card_no = $1 AND ($2::bigint IS NULL OR t.transfer_id < $2) ORDER BY t.transfer_id DESC LIMIT $3`,
      [cardNo, beforeId === null ? null : beforeId.toString(), Math.min(limit, historyPageMax)],
    );
    return r.rows.map(toView);
  }

  /**
   * The trial balance: every account's stored balance against the sum of its postings, and the
   * total of all balances (zero when the books balance).
   */
  async trialBalance(): Promise<TrialBalance> {
    const byKind = await this.pool.query<{ kind: string; n: bigint; balance: bigint }>(
      `SELECT kind, count(*)::bigint AS n, coalesce(sum(balance), 0)::bigint AS balance FROM accounts GROUP BY kind ORDER BY kind`,
    );
    const mismatched = await this.pool.query<{ account_id: bigint; kind: string; owner_id: string; balance: bigint; postings: bigint }>(
      `WITH p AS (
         SELECT account_id, sum(delta)::bigint AS postings FROM (
           SELECT credit_account_id AS account_id, amount AS delta FROM transfers
           UNION ALL SELECT debit_account_id, -amount FROM transfers) x GROUP BY account_id)
       SELECT a.account_id, a.kind, a.owner_id, a.balance, coalesce(p.postings, 0)::bigint AS postings
         FROM accounts a LEFT JOIN p USING (account_id)
        WHERE a.balance <> coalesce(p.postings, 0) LIMIT 100`,
    );
    const total = byKind.rows.reduce((sum, row) => sum + row.balance, 0n);
    return {
      balanced: total === 0n && mismatched.rows.length === 0,
      total,
      accounts: byKind.rows.map((row) => ({ kind: row.kind, count: Number(row.n), balance: row.balance })),
      mismatched: mismatched.rows.map((m) => ({ accountId: m.account_id, kind: m.kind, ownerId: m.owner_id, balance: m.balance, postings: m.postings })),
    };
  }
}
