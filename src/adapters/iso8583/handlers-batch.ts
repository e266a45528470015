// 0500 batch totals: the terminal's purchase count and amount (debits, F76/F88) and its refunds and
// top-ups (credits, F74/F86) against the ledger's count of the same batch → 00 equal, 95 not.
// A batch is the terminal's transactions after its previous accepted batch (docs/iso8583.md).
import type { Pool } from '../postgres/db.js';
import { businessDateOf } from '../../domain/business-day.js';
import { Code } from '../../domain/codes.js';
import type { Clock } from '../../platform/clock.js';
import { KeyedMutex } from '../../platform/mutex.js';
import type { IsoOp } from './store.js';
import { answer, text, type Answer, type FinancialHandler, type IsoRequest } from './handlers.js';

/** terminal_totals keeps counts as int4. */
const countMax = 2_147_483_647n;

export interface BatchTotals {
  debitCount: bigint;
  debitAmount: bigint;
  creditCount: bigint;
  creditAmount: bigint;
}

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

export class Batch0500 implements FinancialHandler {
  private readonly perTerminal = new KeyedMutex();

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
  ) {}

  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer {
    if (!/^\d{1,12}$/.test(text(req.msg, 60) ?? '')) return answer(Code.formatError);
    const reported = reportedTotals(req);
    if (reported.debitCount > countMax || reported.creditCount > countMax) return answer(Code.formatError);
    return { op: 'batch', originalKey: null };
  }

  async run(req: IsoRequest): Promise<Answer> {
    const terminalId = req.key.terminalId;
    const batchNo = text(req.msg, 60)!;
    const reported = reportedTotals(req);
    return this.perTerminal.run(terminalId, async () => {
      const last = (await this.pool.query<{ batch_no: string; from_transfer_id: bigint; to_transfer_id: bigint }>(lastAcceptedSql, [terminalId])).rows[0];
      let from: bigint;
      let to: bigint;
      if (last && last.batch_no === batchNo) {
        // The accepted batch sent again (its answer was lost): the same transactions as then.
        from = last.from_transfer_id;
        to = last.to_transfer_id;
      } else {
        from = last?.to_transfer_id ?? 0n;
        to = (await this.pool.query<{ high: bigint }>(windowEndSql, [terminalId, from.toString()])).rows[0]!.high;
      }
      const ledger = await this.ledgerTotals(terminalId, from, to);
      const equal =
        ledger.debitCount === reported.debitCount &&
        ledger.debitAmount === reported.debitAmount &&
        ledger.creditCount === reported.creditCount &&
        ledger.creditAmount === reported.creditAmount;
      await this.pool.query(recordSql, [
        terminalId,
        businessDateOf(this.clock.now()),
        batchNo,
        reported.debitCount.toString(),
        reported.debitAmount.toString(),
        reported.creditCount.toString(),
        reported.creditAmount.toString(),
        ledger.debitCount.toString(),
        ledger.debitAmount.toString(),
        ledger.creditCount.toString(),
        ledger.creditAmount.toString(),
        equal,
        from.toString(),
        to.toString(),
      ]);
      return answer(equal ? Code.approved : Code.reconcileError);
    });
  }

  async ledgerTotals(terminalId: string, fromExclusive: bigint, toInclusive: bigint): Promise<BatchTotals> {
    const r = await this.pool.query<{ op_kind: string; n: bigint; amount: bigint }>(ledgerTotalsSql, [terminalId, fromExclusive.toString(), toInclusive.toString()]);
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
}

/** F74/F86 credits, F76/F88 debits; an absent field counts as zero. */
function reportedTotals(req: IsoRequest): BatchTotals {
  const n = (no: number) => BigInt(text(req.msg, no) ?? '0');
  return { debitCount: n(76), debitAmount: n(88), creditCount: n(74), creditAmount: n(86) };
}
