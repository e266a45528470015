// PostgreSQL side of POS batch totals: the terminal's reported batches (iso_batches, and
// terminal_totals for the reconcile job) and the ledger's count of the same transfers.
import type { Pool } from './db.js';
import type { BatchRecord, BatchTotals, BatchTotalsStore, BatchWindow } from '../../app/ports/terminal.js';

const lastAcceptedSql = `
SELECT batch_no, from_transfer_id, to_transfer_id FROM iso_batches
 WHERE terminal_id = $1 AND accepted ORDER BY to_transfer_id DESC, received_at DESC LIMIT 1`;

const windowEndSql = `SELECT coalesce(max(transfer_id), $2::bigint) AS high FROM transfers WHERE terminal_id = $1 AND transfer_id > $2`;

// Purchases (incl. offline advices) are debits; refunds and top-ups credits; a reversed one counts
// in neither (the terminal takes it out of its batch too).
const ledgerTotalsSql = `
SELECT t.op_kind, count(DISTINCT t.op_id)::bigint AS n, coalesce(sum(t.amount), 0)::bigint AS amount
  FROM transfers t
 WHERE t.terminal_id = $1 AND t.transfer_id > $2 AND t.transfer_id <= $3
   AND t.op_kind IN ('payment', 'refund', 'topup')
   AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.op_kind = t.op_kind || '-reversal' AND r.op_id = t.op_id AND r.transfer_id <= $3)
 GROUP BY t.op_kind`;

// Once a batch is accepted its row is final; until then the latest report replaces the earlier one.
// terminal_totals (migrations/0005_jobs.sql) gets what the terminal reported, for the reconcile job.
const recordSql = `
WITH b AS (
  INSERT INTO iso_batches AS b (terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount,
                                ledger_debit_count, ledger_debit_amount, ledger_credit_count, ledger_credit_amount,
                                accepted, from_transfer_id, to_transfer_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (terminal_id, business_date, batch_no) DO UPDATE
     SET debit_count = excluded.debit_count, debit_amount = excluded.debit_amount,
         credit_count = excluded.credit_count, credit_amount = excluded.credit_amount,
         ledger_debit_count = excluded.ledger_debit_count, ledger_debit_amount = excluded.ledger_debit_amount,
         ledger_credit_count = excluded.ledger_credit_count, ledger_credit_amount = excluded.ledger_credit_amount,
         accepted = excluded.accepted, from_transfer_id = excluded.from_transfer_id,
         to_transfer_id = excluded.to_transfer_id, received_at = now()
   WHERE NOT b.accepted
  RETURNING terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount)
INSERT INTO terminal_totals (terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount, source)
SELECT terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount, 'iso0500' FROM b
ON CONFLICT (terminal_id, business_date, batch_no) DO UPDATE
   SET debit_count = excluded.debit_count, debit_amount = excluded.debit_amount, credit_count = excluded.credit_count,
       credit_amount = excluded.credit_amount, source = excluded.source, received_at = now()`;

export class PgBatchTotals implements BatchTotalsStore {
  constructor(private readonly pool: Pool) {}

  async lastAccepted(terminalId: string): Promise<(BatchWindow & { batchNo: string }) | null> {
    const row = (await this.pool.query<{ batch_no: string; from_transfer_id: bigint; to_transfer_id: bigint }>(lastAcceptedSql, [terminalId])).rows[0];
    return row ? { batchNo: row.batch_no, fromTransferId: row.from_transfer_id, toTransferId: row.to_transfer_id } : null;
  }

  async windowEnd(terminalId: string, fromExclusive: bigint): Promise<bigint> {
    return (await this.pool.query<{ high: bigint }>(windowEndSql, [terminalId, fromExclusive.toString()])).rows[0]!.high;
  }

  async ledgerTotals(terminalId: string, window: BatchWindow): Promise<BatchTotals> {
    const r = await this.pool.query<{ op_kind: string; n: bigint; amount: bigint }>(ledgerTotalsSql, [terminalId, window.fromTransferId.toString(), window.toTransferId.toString()]);
    const totals: BatchTotals = { debitCount: 0n, debitAmount: 0n, creditCount: 0n, creditAmount: 0n };
    for (const row of r.rows) {
      if (row.op_kind === 'payment') {
        totals.debitCount += row.n;
        totals.debitAmount += row.amount;
      } else {
        totals.creditCount += row.n;
        totals.creditAmount += row.amount;
      }
    }
    return totals;
  }

  async record(b: BatchRecord): Promise<void> {
    await this.pool.query(recordSql, [
      b.terminalId,
      b.businessDate,
      b.batchNo,
      b.reported.debitCount.toString(),
      b.reported.debitAmount.toString(),
      b.reported.creditCount.toString(),
      b.reported.creditAmount.toString(),
      b.ledger.debitCount.toString(),
      b.ledger.debitAmount.toString(),
      b.ledger.creditCount.toString(),
      b.ledger.creditAmount.toString(),
      b.accepted,
      b.fromTransferId.toString(),
      b.toTransferId.toString(),
    ]);
  }
}
