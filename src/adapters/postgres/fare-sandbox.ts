// Fare-sandbox jobs (migrations/0015_registry.sql) and the day's riders they re-rate: one row per
// job with its state, progress and result; the cards with accepted taps of a day, their effective
// type and residence district. Reads only: the sandbox never writes the ledger.
import type { Pool } from './db.js';

export type SandboxState = 'queued' | 'running' | 'completed' | 'failed';

export interface SandboxJobRow {
  jobId: string;
  businessDate: string;
  policy: unknown;
  state: SandboxState;
  progress: number;
  result: unknown;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DayRider {
  cardNo: string;
  cardType: string;
  district: string | null;
}

export class PgFareSandbox {
  constructor(private readonly pool: Pool) {}

  async insert(jobId: string, businessDate: string, policy: unknown, at: Date): Promise<void> {
    await this.pool.query(`INSERT INTO fare_sandbox_jobs (job_id, business_date, policy, state, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, $4)`, [jobId, businessDate, JSON.stringify(policy), at]);
  }

  async job(jobId: string): Promise<SandboxJobRow | null> {
    const r = await this.pool.query(`SELECT *, business_date::text AS day FROM fare_sandbox_jobs WHERE job_id = $1`, [jobId]);
    const row = r.rows[0];
    return row
      ? { jobId: row.job_id, businessDate: row.day, policy: row.policy, state: row.state, progress: row.progress, result: row.result, error: row.error, createdAt: row.created_at, updatedAt: row.updated_at }
      : null;
  }

  async unfinished(): Promise<string[]> {
    const r = await this.pool.query<{ job_id: string }>(`SELECT job_id FROM fare_sandbox_jobs WHERE state IN ('queued', 'running') ORDER BY created_at`);
    return r.rows.map((row) => row.job_id);
  }

  async update(jobId: string, patch: { state?: SandboxState; progress?: number; result?: unknown; error?: string | null }, at: Date): Promise<void> {
    await this.pool.query(
      `UPDATE fare_sandbox_jobs SET state = coalesce($2, state), progress = coalesce($3, progress), result = coalesce($4, result), error = coalesce($5, error), updated_at = $6 WHERE job_id = $1`,
      [jobId, patch.state ?? null, patch.progress ?? null, patch.result === undefined ? null : JSON.stringify(patch.result), patch.error ?? null, at],
    );
  }

  /** The cards with accepted taps on the day, ordered, with their effective type and district. */
  async ridersOfDay(businessDate: string): Promise<DayRider[]> {
    const r = await this.pool.query<{ card_no: string; card_type: string; district: string | null }>(
      `SELECT c.card_no, coalesce(c.registry_type, c.card_type) AS card_type, f.value #>> '{}' AS district
         FROM (SELECT DISTINCT card_no FROM taps WHERE business_date = $1 AND status = 'accepted') d
         JOIN cards c ON c.card_no = d.card_no
         LEFT JOIN people p ON p.citizen_id = c.citizen_id
         LEFT JOIN person_fields f ON f.person_id = p.person_id AND f.field = 'district'
        ORDER BY c.card_no`,
      [businessDate],
    );
    return r.rows.map((row) => ({ cardNo: row.card_no, cardType: row.card_type, district: row.district }));
  }

  /** What the day's accepted taps were charged (a cross-check of the re-rating under the policy in force). */
  async chargedFen(businessDate: string): Promise<bigint> {
    const r = await this.pool.query<{ total: bigint }>(`SELECT coalesce(sum(fare), 0)::bigint AS total FROM taps WHERE business_date = $1 AND status = 'accepted'`, [businessDate]);
    return r.rows[0]!.total;
  }
}
