// Medical claims and the citizens' year-to-date state in PostgreSQL (migrations/0004_medical.sql).
// Each write is idempotent by (claim_scope, claimId), a claimId being its POS's own (DESIGN §11),
// and moves the claim and its year-to-date effect together.
import { withTransaction, type Pool } from './db.js';
import { cancelOpKind, settleOpKind, type ClaimRecord, type LedgerMedicalOp, type MedicalClaims, type NewClaim } from '../../app/medical-records.js';
import { reverseYtd, type MedicalItem, type YearToDate } from '../../domain/medical/index.js';

/** Most year-to-date mismatches one check reports. */
export const ytdMismatchesMax = 100;
/** Most orphaned ledger commands of one citizen completed per call. */
export const citizenOrphansMax = 100;

export interface YtdRow {
  citizenId: bigint;
  year: number;
  deductibleUsedFen: bigint;
  fundPaidFen: bigint;
}

export interface YtdMismatch {
  citizenId: bigint;
  year: number;
  stored: YearToDate | null;
  fromClaims: YearToDate | null;
}

const claimColumns = `claim_id, card_no, citizen_id, merchant_id, terminal_id, business_date, year, status, items, use_purse,
  total, fund, personal, purse, cash, deductible_part, request_hash, transfer_id, settled_at, cancelled_at`;

const recordSettlementSql = `
WITH ins AS (
  INSERT INTO medical_claims (claim_id, card_no, citizen_id, merchant_id, terminal_id, business_date, year, status, items,
                              use_purse, total, fund, personal, purse, cash, deductible_part, request_hash, transfer_id, settled_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'settled', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
  ON CONFLICT (claim_scope, claim_id) DO NOTHING
  RETURNING citizen_id, year, deductible_part, fund
), ytd AS (
  INSERT INTO medical_ytd (citizen_id, year, deductible_used, fund_paid)
  SELECT citizen_id, year, deductible_part, fund FROM ins
  ON CONFLICT (citizen_id, year) DO UPDATE
    SET deductible_used = medical_ytd.deductible_used + EXCLUDED.deductible_used,
        fund_paid = medical_ytd.fund_paid + EXCLUDED.fund_paid
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM ytd)::int AS ytd_rows`;

// The year-to-date of the settled claims, per (citizen, year) with any claim: what medical_ytd must hold.
const fromClaimsSql = `
SELECT citizen_id, year,
       sum(CASE WHEN status = 'settled' THEN deductible_part ELSE 0 END)::bigint AS deductible_used,
       sum(CASE WHEN status = 'settled' THEN fund ELSE 0 END)::bigint AS fund_paid
  FROM medical_claims GROUP BY citizen_id, year`;

// A cancellation names the scope of the claim it cancels (detail.claimScope, the same POS); one
// written before claim ids were scoped (migration 0018) does not, and its op_scope may be another
// POS of the same merchant.
const cancelScope = `coalesce(t.detail ->> 'claimScope', t.op_scope)`;
const ledgerOpColumns = `t.op_kind, t.op_id, CASE WHEN t.op_kind = '${cancelOpKind}' THEN ${cancelScope} ELSE t.op_scope END AS claim_scope,
  t.transfer_id, t.card_no, t.terminal_id, t.business_date, t.request_hash, t.detail, t.created_at`;

// A settlement without its claim row, or a cancellation whose claim is not marked cancelled.
const orphanFilter = `t.op_kind IN ('${settleOpKind}', '${cancelOpKind}') AND t.leg = 0
  AND NOT EXISTS (SELECT 1 FROM medical_claims c
                   WHERE c.claim_id = t.op_id
                     AND ((t.op_kind = '${settleOpKind}' AND c.claim_scope = t.op_scope)
                       OR (t.op_kind = '${cancelOpKind}' AND c.status = 'cancelled'
                           AND (c.claim_scope = ${cancelScope}
                                OR (NOT (t.detail ? 'claimScope') AND c.merchant_id = t.detail ->> 'merchantId')))))`;

export class PgMedicalClaims implements MedicalClaims {
  constructor(private readonly pool: Pool) {}

  async claim(scope: string, claimId: string): Promise<ClaimRecord | null> {
    const r = await this.pool.query(`SELECT ${claimColumns} FROM medical_claims WHERE claim_scope = $1 AND claim_id = $2`, [scope, claimId]);
    return r.rows[0] ? toClaim(r.rows[0]) : null;
  }

  async ytd(citizenId: bigint, year: number): Promise<YearToDate> {
    const r = await this.pool.query<{ deductible_used: bigint; fund_paid: bigint }>(
      `SELECT deductible_used, fund_paid FROM medical_ytd WHERE citizen_id = $1 AND year = $2`,
      [citizenId.toString(), year],
    );
    const row = r.rows[0];
    return { deductibleUsedFen: row?.deductible_used ?? 0n, fundPaidFen: row?.fund_paid ?? 0n };
  }

  async recordSettlement(c: NewClaim): Promise<boolean> {
    const r = await this.pool.query<{ inserted: number }>(recordSettlementSql, [
      c.claimId,
      c.cardNo,
      c.citizenId.toString(),
      c.merchantId,
      c.terminalId,
      c.businessDate,
      c.year,
      JSON.stringify(c.items.map((i) => ({ code: i.code, amount: i.amountFen.toString(), eligible: i.eligible }))),
      c.usePurse,
      c.totalFen.toString(),
      c.fundFen.toString(),
      c.personalFen.toString(),
      c.purseFen.toString(),
      c.cashFen.toString(),
      c.deductiblePartFen.toString(),
      c.requestHash,
      c.transferId === null ? null : c.transferId.toString(),
      c.settledAt,
    ]);
    return r.rows[0]!.inserted === 1;
  }

  async recordCancellation(scope: string, claimId: string, at: Date): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const claim = await client.query<{ citizen_id: bigint; year: number; deductible_part: bigint; fund: bigint }>(
        `UPDATE medical_claims SET status = 'cancelled', cancelled_at = $3 WHERE claim_scope = $1 AND claim_id = $2 AND status = 'settled'
         RETURNING citizen_id, year, deductible_part, fund`,
        [scope, claimId, at],
      );
      const row = claim.rows[0];
      if (!row) return false;
      const current = await client.query<{ deductible_used: bigint; fund_paid: bigint }>(
        `SELECT deductible_used, fund_paid FROM medical_ytd WHERE citizen_id = $1 AND year = $2 FOR UPDATE`,
        [row.citizen_id.toString(), row.year],
      );
      const ytd = { deductibleUsedFen: current.rows[0]?.deductible_used ?? 0n, fundPaidFen: current.rows[0]?.fund_paid ?? 0n };
      const next = reverseYtd(ytd, { deductiblePart: row.deductible_part, fund: row.fund });
      await client.query(
        `INSERT INTO medical_ytd (citizen_id, year, deductible_used, fund_paid) VALUES ($1, $2, $3, $4)
         ON CONFLICT (citizen_id, year) DO UPDATE SET deductible_used = EXCLUDED.deductible_used, fund_paid = EXCLUDED.fund_paid`,
        [row.citizen_id.toString(), row.year, next.deductibleUsedFen.toString(), next.fundPaidFen.toString()],
      );
      return true;
    });
  }

  async ledgerSettlement(scope: string, claimId: string): Promise<LedgerMedicalOp | null> {
    const r = await this.pool.query(`SELECT ${ledgerOpColumns} FROM transfers t WHERE t.op_kind = $1 AND t.op_scope = $2 AND t.op_id = $3 AND t.leg = 0`, [
      settleOpKind,
      scope,
      claimId,
    ]);
    return r.rows[0] ? toLedgerOp(r.rows[0]) : null;
  }

  async orphansOf(citizenId: bigint): Promise<LedgerMedicalOp[]> {
    const r = await this.pool.query(
      `SELECT ${ledgerOpColumns} FROM transfers t WHERE (t.detail ->> 'citizenId') = $1 AND ${orphanFilter} ORDER BY t.transfer_id LIMIT $2`,
      [citizenId.toString(), citizenOrphansMax],
    );
    return r.rows.map(toLedgerOp);
  }

  async orphansSince(businessDate: string, afterTransferId: bigint, limit: number): Promise<LedgerMedicalOp[]> {
    const r = await this.pool.query(
      `SELECT ${ledgerOpColumns} FROM transfers t WHERE t.business_date >= $1 AND t.transfer_id > $2 AND ${orphanFilter}
       ORDER BY t.transfer_id LIMIT $3`,
      [businessDate, afterTransferId.toString(), limit],
    );
    return r.rows.map(toLedgerOp);
  }

  /** Every stored year-to-date row against the sum of its settled claims (empty when they agree). */
  async ytdMismatches(): Promise<YtdMismatch[]> {
    const r = await this.pool.query<{ citizen_id: bigint; year: number; sd: bigint | null; sf: bigint | null; cd: bigint | null; cf: bigint | null }>(
      `WITH c AS (${fromClaimsSql})
       SELECT coalesce(c.citizen_id, y.citizen_id) AS citizen_id, coalesce(c.year, y.year) AS year,
              y.deductible_used AS sd, y.fund_paid AS sf, c.deductible_used AS cd, c.fund_paid AS cf
         FROM c FULL JOIN medical_ytd y ON y.citizen_id = c.citizen_id AND y.year = c.year
        WHERE y.citizen_id IS NULL OR c.citizen_id IS NULL
           OR y.deductible_used <> c.deductible_used OR y.fund_paid <> c.fund_paid
        ORDER BY 1, 2 LIMIT $1`,
      [ytdMismatchesMax],
    );
    return r.rows.map((row) => ({
      citizenId: row.citizen_id,
      year: row.year,
      stored: row.sd === null ? null : { deductibleUsedFen: row.sd, fundPaidFen: row.sf ?? 0n },
      fromClaims: row.cd === null ? null : { deductibleUsedFen: row.cd, fundPaidFen: row.cf ?? 0n },
    }));
  }

  /**
   * Rewrites medical_ytd from the claims (the truth): one row per (citizen, year) with any claim,
   * holding the sums of the settled ones. Settlements wait while it runs. Returns the row count.
   */
  async rebuildYtd(): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      await client.query(`LOCK TABLE medical_claims, medical_ytd IN SHARE ROW EXCLUSIVE MODE`);
      await client.query(`DELETE FROM medical_ytd`);
      const r = await client.query(`INSERT INTO medical_ytd (citizen_id, year, deductible_used, fund_paid) ${fromClaimsSql}`);
      return r.rowCount ?? 0;
    });
  }

  async ytdRows(): Promise<YtdRow[]> {
    const r = await this.pool.query<{ citizen_id: bigint; year: number; deductible_used: bigint; fund_paid: bigint }>(
      `SELECT citizen_id, year, deductible_used, fund_paid FROM medical_ytd ORDER BY citizen_id, year`,
    );
    return r.rows.map((row) => ({ citizenId: row.citizen_id, year: row.year, deductibleUsedFen: row.deductible_used, fundPaidFen: row.fund_paid }));
  }
}

function toClaim(row: Record<string, unknown>): ClaimRecord {
  const items = (row.items as { code: string; amount: string; eligible: boolean }[]).map(
    (i): MedicalItem => ({ code: i.code, amountFen: BigInt(i.amount), eligible: i.eligible }),
  );
  return {
    claimId: row.claim_id as string,
    cardNo: row.card_no as string,
    citizenId: row.citizen_id as bigint,
    merchantId: row.merchant_id as string,
    terminalId: row.terminal_id as string | null,
    businessDate: row.business_date as string,
    year: row.year as number,
    status: row.status as ClaimRecord['status'],
    items,
    usePurse: row.use_purse as boolean,
    totalFen: row.total as bigint,
    fundFen: row.fund as bigint,
    personalFen: row.personal as bigint,
    purseFen: row.purse as bigint,
    cashFen: row.cash as bigint,
    deductiblePartFen: row.deductible_part as bigint,
    requestHash: row.request_hash as string,
    transferId: row.transfer_id as bigint | null,
    settledAt: row.settled_at as Date,
    cancelledAt: row.cancelled_at as Date | null,
  };
}

function toLedgerOp(row: Record<string, unknown>): LedgerMedicalOp {
  return {
    opKind: row.op_kind as LedgerMedicalOp['opKind'],
    opId: row.op_id as string,
    claimScope: row.claim_scope as string,
    transferId: row.transfer_id as bigint,
    cardNo: row.card_no as string | null,
    terminalId: row.terminal_id as string | null,
    businessDate: row.business_date as string,
    requestHash: row.request_hash as string,
    detail: row.detail as Record<string, unknown>,
    createdAt: row.created_at as Date,
  };
}
