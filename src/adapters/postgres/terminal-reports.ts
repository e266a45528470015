// What terminals report about their own day, for reconcile-terminals (DESIGN §8, §14): a validator's
// daily totals (terminal_totals, source 'validator', batch_no '') and any terminal's list of its
// transactions (terminal_reported_txns: reference = the ledger's op id, amount signed fen).
import { withTransaction, type Pool } from './db.js';

export interface DailyReport {
  terminalId: string;
  businessDate: string;
  /** null: the terminal sent only a list (a POS after a 0500 mismatch: its totals are the batch's). */
  totals: { count: number; amountFen: bigint } | null;
  /** null: no list sent (an earlier list of the day is kept). */
  transactions: { reference: string; amountFen: bigint }[] | null;
}

export async function recordDailyReport(pool: Pool, r: DailyReport): Promise<void> {
  await withTransaction(pool, async (client) => {
    if (r.totals) {
      // The latest report of the day replaces an earlier one (a validator resends after a restart).
      await client.query(
        `INSERT INTO terminal_totals (terminal_id, business_date, batch_no, debit_count, debit_amount, credit_count, credit_amount, source)
         VALUES ($1, $2, '', $3, $4, 0, 0, 'validator')
         ON CONFLICT (terminal_id, business_date, batch_no) DO UPDATE
            SET debit_count = excluded.debit_count, debit_amount = excluded.debit_amount, received_at = now()`,
        [r.terminalId, r.businessDate, r.totals.count, r.totals.amountFen.toString()],
      );
    }
    if (r.transactions) {
      // A list is whole: it replaces the day's earlier list of the terminal.
      await client.query(`DELETE FROM terminal_reported_txns WHERE terminal_id = $1 AND business_date = $2`, [r.terminalId, r.businessDate]);
      if (r.transactions.length > 0) {
        await client.query(
          `INSERT INTO terminal_reported_txns (terminal_id, business_date, reference, amount)
           SELECT $1, $2, t.reference, t.amount FROM unnest($3::text[], $4::bigint[]) AS t (reference, amount)
           ON CONFLICT (terminal_id, business_date, reference) DO UPDATE SET amount = excluded.amount`,
          [r.terminalId, r.businessDate, r.transactions.map((t) => t.reference), r.transactions.map((t) => t.amountFen.toString())],
        );
      }
    }
  });
}

/** The fares charged for these taps of a terminal (accepted rows), by tap id: a list sent without amounts. */
export async function chargedFares(pool: Pool, terminalId: string, tapIds: readonly string[]): Promise<Map<string, bigint>> {
  if (tapIds.length === 0) return new Map();
  const r = await pool.query<{ tap_id: string; fare: string }>(`SELECT tap_id, fare::text FROM taps WHERE tap_id = ANY($1) AND terminal_id = $2 AND status = 'accepted'`, [tapIds, terminalId]);
  return new Map(r.rows.map((row) => [row.tap_id, BigInt(row.fare)]));
}
