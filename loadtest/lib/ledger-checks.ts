// After a phase: what PostgreSQL holds of it. Approved answers against committed transfers (an
// approval must never be answered before its commit), the group commit's batch size per step
// (transfers per committing transaction, told apart by xmin), and the trial balance.
import { createPool } from '../../src/adapters/postgres/db.js';
import { Journal } from '../../src/adapters/postgres/journal.js';
import type { StepRecord } from './search.js';

export interface LedgerCheck {
  opKind: string;
  terminalId: string;
}

/** Payment transfers the phase committed, and in how many PostgreSQL transactions (distinct xmin). */
export async function committedTransfers(databaseUrl: string, check: LedgerCheck | null, phaseRunId: string): Promise<{ transfers: number; transactions: number }> {
  if (!check) return { transfers: -1, transactions: -1 };
  const pool = createPool(databaseUrl, 1);
  try {
    const r = await pool.query<{ n: bigint; x: bigint }>(
      `SELECT count(*)::bigint AS n, count(DISTINCT xmin::text)::bigint AS x FROM transfers
        WHERE terminal_id = $1 AND op_kind = $3 AND leg = 0 AND starts_with(op_id, $2)`,
      [check.terminalId, `${phaseRunId}-`, check.opKind],
    );
    return { transfers: Number(r.rows[0]!.n), transactions: Number(r.rows[0]!.x) };
  } finally {
    await pool.end();
  }
}

/** Per step: payment transfers per committing transaction (their xmin), from the step's id range. */
export async function batchSizes(databaseUrl: string, check: LedgerCheck | null, phaseRunId: string, steps: StepRecord[]): Promise<void> {
  if (!check || steps.length === 0) return;
  const pool = createPool(databaseUrl, 1);
  try {
    const prefix = `${phaseRunId}-`;
    const r = await pool.query<{ i: number; n: bigint; x: bigint }>(
      `WITH t AS (
         SELECT substr(op_id, length($2) + 1)::bigint AS seq, xmin::text AS x FROM transfers
          WHERE terminal_id = $1 AND op_kind = $6 AND leg = 0 AND starts_with(op_id, $2))
       SELECT r.i, count(t.seq)::bigint AS n, count(DISTINCT t.x)::bigint AS x
         FROM unnest($3::int[], $4::bigint[], $5::bigint[]) AS r(i, lo, hi)
         LEFT JOIN t ON t.seq >= r.lo AND t.seq < r.hi
        GROUP BY r.i`,
      [check.terminalId, prefix, steps.map((_, i) => i), steps.map((s) => s.seqStart), steps.map((s) => s.seqStart + s.sent), check.opKind],
    );
    for (const row of r.rows) {
      const step = steps[row.i];
      if (step && row.x > 0n) step.transfersPerCommit = Math.round((Number(row.n) / Number(row.x)) * 10) / 10;
    }
  } finally {
    await pool.end();
  }
}

/** The core's own trial balance (all accounts sum to zero, every balance equals its postings). */
export async function trialBalance(databaseUrl: string): Promise<{ balanced: boolean; total: string }> {
  const pool = createPool(databaseUrl, 1);
  try {
    const tb = await new Journal(pool).trialBalance();
    return { balanced: tb.balanced, total: tb.total.toString() };
  } finally {
    await pool.end();
  }
}
