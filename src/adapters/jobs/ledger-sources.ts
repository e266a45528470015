// PostgreSQL reads of the nightly jobs over the journal: clearing totals per party, terminal
// reconciliation, medical claims. Aggregation runs in PostgreSQL; the rows come back through a
// cursor (pg-stream.ts), so no job holds a day of transfers in memory.
import type { Pool } from '../postgres/db.js';
import { Snapshot, withSnapshot } from './pg-stream.js';
import { lateClearingDaysMax, type ClearingSource, type LatePartyDay, type PartyDay } from '../../app/jobs/clearing.js';
import type { ReconcileSource, ReconcileView, TerminalDay, TxnDiff } from '../../app/jobs/reconcile-terminals.js';
import type { ClaimDay, MedicalClaimsSource } from '../../app/jobs/medical-claims.js';

// Credits and debits of each operator's receivable and merchant's payable account on the date,
// clearing's own transfers excluded. Two index scans of the day (credit side, debit side), each
// joined to the few party accounts before it is aggregated.
const partyDaysSql = `
WITH parties AS (
  SELECT account_id, kind, owner_id FROM accounts WHERE kind IN ('receivable', 'payable')
), legs AS (
  SELECT t.credit_account_id AS account_id, count(*) AS n, sum(t.amount) AS credit, 0::numeric AS debit
    FROM transfers t JOIN parties p ON p.account_id = t.credit_account_id
   WHERE t.business_date = $1 AND t.op_kind <> 'clearing'
   GROUP BY t.credit_account_id
  UNION ALL
  SELECT t.debit_account_id, count(*), 0::numeric, sum(t.amount)
    FROM transfers t JOIN parties p ON p.account_id = t.debit_account_id
   WHERE t.business_date = $1 AND t.op_kind <> 'clearing'
   GROUP BY t.debit_account_id
)
SELECT p.kind, p.owner_id, coalesce(o.commission_rate, m.commission_rate)::text AS rate,
       sum(l.n)::bigint AS postings, sum(l.credit)::bigint AS credit, sum(l.debit)::bigint AS debit
  FROM legs l JOIN parties p USING (account_id)
  LEFT JOIN operators o ON p.kind = 'receivable' AND o.operator_id = p.owner_id
  LEFT JOIN merchants m ON p.kind = 'payable' AND m.merchant_id = p.owner_id
 GROUP BY p.kind, p.owner_id, o.commission_rate, m.commission_rate
 ORDER BY p.kind = 'payable', p.owner_id COLLATE "C"`;

// What is left in each party's account from earlier business dates that were already cleared and
// then received postings (late_postings: offline taps uploaded late and their re-rating): per date
// and party, credits − debits of ALL the date's transfers, clearing's own included, so what an
// earlier catch-up settled is not settled again. `posted`: the date's own clearing command exists.
const latePartiesSql = `
WITH days AS (
  SELECT l.business_date FROM late_postings l
   WHERE l.business_date <= $1::date AND l.business_date >= $1::date - $2::int
     AND (EXISTS (SELECT 1 FROM job_runs r WHERE r.name = 'clearing' AND r.business_date = l.business_date AND r.status = 'completed')
          OR EXISTS (SELECT 1 FROM transfers c WHERE c.business_date = l.business_date AND c.op_kind = 'clearing'))
), parties AS (
  SELECT account_id, kind, owner_id FROM accounts WHERE kind IN ('receivable', 'payable')
), legs AS (
  SELECT t.business_date, t.credit_account_id AS account_id, count(*) FILTER (WHERE t.op_kind <> 'clearing') AS n, sum(t.amount) AS credit, 0::numeric AS debit
    FROM transfers t JOIN days d USING (business_date) JOIN parties p ON p.account_id = t.credit_account_id
   GROUP BY t.business_date, t.credit_account_id
  UNION ALL
  SELECT t.business_date, t.debit_account_id, count(*) FILTER (WHERE t.op_kind <> 'clearing'), 0::numeric, sum(t.amount)
    FROM transfers t JOIN days d USING (business_date) JOIN parties p ON p.account_id = t.debit_account_id
   GROUP BY t.business_date, t.debit_account_id
)
SELECT l.business_date::text AS d, p.kind, p.owner_id, coalesce(o.commission_rate, m.commission_rate)::text AS rate,
       sum(l.n)::bigint AS postings, sum(l.credit)::bigint AS credit, sum(l.debit)::bigint AS debit,
       EXISTS (SELECT 1 FROM transfers c WHERE c.op_kind = 'clearing'
                  AND c.op_id = l.business_date::text || ':' || CASE p.kind WHEN 'receivable' THEN 'operator' ELSE 'merchant' END || ':' || p.owner_id) AS posted
  FROM legs l JOIN parties p USING (account_id)
  LEFT JOIN operators o ON p.kind = 'receivable' AND o.operator_id = p.owner_id
  LEFT JOIN merchants m ON p.kind = 'payable' AND m.merchant_id = p.owner_id
 GROUP BY l.business_date, p.kind, p.owner_id, o.commission_rate, m.commission_rate
HAVING sum(l.credit) <> sum(l.debit)
 ORDER BY l.business_date, p.kind = 'payable', p.owner_id COLLATE "C"`;

export class PgClearingSource implements ClearingSource {
  constructor(private readonly pool: Pool) {}

  async lateParties(businessDate: string): Promise<LatePartyDay[]> {
    const r = await this.pool.query<{ d: string; kind: string; owner_id: string; rate: string | null; postings: string; credit: string; debit: string; posted: boolean }>(latePartiesSql, [businessDate, lateClearingDaysMax]);
    return r.rows.map((row) => ({
      lateDate: row.d,
      partyType: row.kind === 'receivable' ? 'operator' : 'merchant',
      partyId: row.owner_id,
      commissionRate: row.rate,
      postings: Number(row.postings),
      creditFen: BigInt(row.credit),
      debitFen: BigInt(row.debit),
      dayCommandPosted: row.posted,
    }));
  }

  async *partyDays(businessDate: string): AsyncGenerator<PartyDay> {
    const snapshot = await Snapshot.open(this.pool);
    try {
      for await (const r of snapshot.stream<{ kind: string; owner_id: string; rate: string | null; postings: bigint; credit: bigint; debit: bigint }>(partyDaysSql, [businessDate])) {
        yield {
          partyType: r.kind === 'receivable' ? 'operator' : 'merchant',
          partyId: r.owner_id,
          commissionRate: r.rate,
          postings: Number(r.postings),
          creditFen: r.credit,
          debitFen: r.debit,
        };
      }
    } finally {
      await snapshot.close();
    }
  }
}

// Each command of the day at a terminal with its signed amount from the card side: debits of the
// purse, medical account or fund count positive, credits to them negative. A command reversed the
// same day (`<kind>-reversal` with its op_id) counts in neither direction, as the terminal takes it
// out of its batch too. Terminals that report ISO 0500 batches count only what a batch covers
// (payments, refunds, top-ups; docs/iso8583.md); validators count every command.
const terminalOpsSql = `
WITH iso AS (
  SELECT DISTINCT terminal_id FROM terminal_totals WHERE business_date = $1 AND source = 'iso0500'
), ops AS (
  SELECT t.terminal_id, t.op_id, regexp_replace(t.op_kind, '-reversal$', '') AS kind,
         bool_or(t.op_kind LIKE '%-reversal') AS reversed,
         (sum(CASE WHEN da.kind IN ('purse', 'medical', 'medical_fund') THEN t.amount ELSE 0 END)
        - sum(CASE WHEN ca.kind IN ('purse', 'medical', 'medical_fund') THEN t.amount ELSE 0 END))::bigint AS signed
    FROM transfers t
    JOIN accounts da ON da.account_id = t.debit_account_id
    JOIN accounts ca ON ca.account_id = t.credit_account_id
   WHERE t.business_date = $1 AND t.terminal_id IS NOT NULL
   GROUP BY t.terminal_id, t.op_id, regexp_replace(t.op_kind, '-reversal$', '')
)
SELECT o.terminal_id, o.op_id, o.kind, o.signed
  FROM ops o LEFT JOIN iso i USING (terminal_id)
 WHERE NOT o.reversed AND (i.terminal_id IS NULL OR o.kind IN ('payment', 'refund', 'topup'))`;

const terminalDaysSql = `
WITH ops AS (${terminalOpsSql}),
ledger AS (
  SELECT terminal_id,
         count(*) FILTER (WHERE signed > 0) AS dc, coalesce(sum(signed) FILTER (WHERE signed > 0), 0)::bigint AS da,
         count(*) FILTER (WHERE signed < 0) AS cc, coalesce(-sum(signed) FILTER (WHERE signed < 0), 0)::bigint AS ca
    FROM ops GROUP BY terminal_id
), reported AS (
  SELECT terminal_id, count(*) AS batches, sum(debit_count)::bigint AS dc, sum(debit_amount)::bigint AS da,
         sum(credit_count)::bigint AS cc, sum(credit_amount)::bigint AS ca
    FROM terminal_totals WHERE business_date = $1 GROUP BY terminal_id
), lists AS (
  SELECT DISTINCT terminal_id FROM terminal_reported_txns WHERE business_date = $1
), ids AS (
  SELECT terminal_id FROM ledger UNION SELECT terminal_id FROM reported UNION SELECT terminal_id FROM lists
)
SELECT i.terminal_id, (k.terminal_id IS NOT NULL) AS known, (li.terminal_id IS NOT NULL) AS has_list,
       coalesce(r.batches, 0)::int AS batches, r.dc AS r_dc, r.da AS r_da, r.cc AS r_cc, r.ca AS r_ca,
       coalesce(l.dc, 0)::bigint AS l_dc, coalesce(l.da, 0)::bigint AS l_da, coalesce(l.cc, 0)::bigint AS l_cc, coalesce(l.ca, 0)::bigint AS l_ca
  FROM ids i
  LEFT JOIN ledger l USING (terminal_id)
  LEFT JOIN reported r USING (terminal_id)
  LEFT JOIN lists li USING (terminal_id)
  LEFT JOIN terminals k ON k.terminal_id = i.terminal_id
 ORDER BY i.terminal_id COLLATE "C"`;

// References whose net signed amount differs between the ledger and a terminal's uploaded list.
const diffsSql = `
WITH lists AS (
  SELECT DISTINCT terminal_id FROM terminal_reported_txns WHERE business_date = $1
), ops AS (${terminalOpsSql}),
ledger AS (
  SELECT o.terminal_id, o.op_id AS reference, sum(o.signed)::bigint AS amount
    FROM ops o JOIN lists USING (terminal_id) GROUP BY o.terminal_id, o.op_id
), reported AS (
  SELECT terminal_id, reference, amount FROM terminal_reported_txns WHERE business_date = $1
)
SELECT * FROM (
  SELECT coalesce(l.terminal_id, r.terminal_id) AS terminal_id, coalesce(l.reference, r.reference) AS reference,
         coalesce(l.amount, 0)::bigint AS ledger_amount, coalesce(r.amount, 0)::bigint AS reported_amount
    FROM ledger l FULL JOIN reported r ON r.terminal_id = l.terminal_id AND r.reference = l.reference
   -- a reported reference the ledger does not know is missing even at 0 (a bare tap id of no ride)
   WHERE coalesce(l.amount, 0) <> coalesce(r.amount, 0) OR l.reference IS NULL) d
 ORDER BY terminal_id COLLATE "C", reference COLLATE "C"`;

interface TerminalDayRow {
  terminal_id: string;
  known: boolean;
  has_list: boolean;
  batches: number;
  r_dc: bigint | null;
  r_da: bigint | null;
  r_cc: bigint | null;
  r_ca: bigint | null;
  l_dc: bigint;
  l_da: bigint;
  l_cc: bigint;
  l_ca: bigint;
}

export class PgReconcileSource implements ReconcileSource {
  constructor(private readonly pool: Pool) {}

  view<T>(businessDate: string, work: (view: ReconcileView) => Promise<T>): Promise<T> {
    return withSnapshot(this.pool, (snapshot) =>
      work({
        async *terminals(): AsyncGenerator<TerminalDay> {
          for await (const r of snapshot.stream<TerminalDayRow>(terminalDaysSql, [businessDate])) {
            yield {
              terminalId: r.terminal_id,
              known: r.known,
              hasList: r.has_list,
              batches: r.batches,
              reported: r.batches === 0 ? null : { debitCount: Number(r.r_dc), debitFen: r.r_da ?? 0n, creditCount: Number(r.r_cc), creditFen: r.r_ca ?? 0n },
              ledger: { debitCount: Number(r.l_dc), debitFen: r.l_da, creditCount: Number(r.l_cc), creditFen: r.l_ca },
            };
          }
        },
        async *diffs(): AsyncGenerator<TxnDiff> {
          for await (const r of snapshot.stream<{ terminal_id: string; reference: string; ledger_amount: bigint; reported_amount: bigint }>(diffsSql, [businessDate])) {
            yield { terminalId: r.terminal_id, reference: r.reference, ledgerFen: r.ledger_amount, reportedFen: r.reported_amount };
          }
        },
      }),
    );
  }
}

// The day's medical claim commands; each leg's amount signed from the payer side (a settle's legs
// leave the fund, medical account and purse: positive; a cancel's legs return to them: negative).
const claimsSql = `
SELECT t.op_kind, t.op_id, max(t.card_no) AS card_no, max(t.terminal_id) AS terminal_id,
       max(CASE WHEN ca.kind = 'payable' THEN ca.owner_id WHEN da.kind = 'payable' THEN da.owner_id END) AS merchant_id,
       sum(CASE WHEN da.kind = 'medical_fund' THEN t.amount WHEN ca.kind = 'medical_fund' THEN -t.amount ELSE 0 END)::bigint AS fund,
       sum(CASE WHEN da.kind = 'medical' THEN t.amount WHEN ca.kind = 'medical' THEN -t.amount ELSE 0 END)::bigint AS medical,
       sum(CASE WHEN da.kind = 'purse' THEN t.amount WHEN ca.kind = 'purse' THEN -t.amount ELSE 0 END)::bigint AS purse
  FROM transfers t
  JOIN accounts da ON da.account_id = t.debit_account_id
  JOIN accounts ca ON ca.account_id = t.credit_account_id
 WHERE t.business_date = $1 AND t.op_kind IN ('medical-settle', 'medical-cancel')
 GROUP BY t.op_kind, t.op_scope, t.op_id
 ORDER BY t.op_id COLLATE "C", t.op_scope COLLATE "C", t.op_kind = 'medical-cancel'`;

export class PgMedicalClaimsSource implements MedicalClaimsSource {
  constructor(private readonly pool: Pool) {}

  async *claims(businessDate: string): AsyncGenerator<ClaimDay> {
    const snapshot = await Snapshot.open(this.pool);
    try {
      for await (const r of snapshot.stream<{ op_kind: string; op_id: string; card_no: string | null; terminal_id: string | null; merchant_id: string | null; fund: bigint; medical: bigint; purse: bigint }>(claimsSql, [businessDate])) {
        yield { opKind: r.op_kind, claimId: r.op_id, cardNo: r.card_no, terminalId: r.terminal_id, merchantId: r.merchant_id, fundFen: r.fund, medicalFen: r.medical, purseFen: r.purse };
      }
    } finally {
      await snapshot.close();
    }
  }
}
