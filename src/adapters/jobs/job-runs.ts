// The job_runs table (migrations/0005_jobs.sql): one row per run of a job for a business date,
// written when it is queued and as it progresses, so that a run's state and result outlive the
// queue's own records in Redis.
import type { Pool } from '../postgres/db.js';
import type { JobResult } from '../../app/jobs/ports.js';

export type RunStatus = 'queued' | 'active' | 'retrying' | 'completed' | 'failed';

export interface JobRun {
  jobId: string;
  name: string;
  businessDate: string;
  rerun: boolean;
  status: RunStatus;
  progress: number;
  result: JobResult | null;
  error: string | null;
  attempts: number;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const errorTextMax = 2000;

interface Row {
  job_id: string;
  name: string;
  business_date: string;
  rerun: boolean;
  status: RunStatus;
  progress: number;
  result: JobResult | null;
  error: string | null;
  attempts: number;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toRun = (r: Row): JobRun => ({
  jobId: r.job_id,
  name: r.name,
  businessDate: r.business_date,
  rerun: r.rerun,
  status: r.status,
  progress: r.progress,
  result: r.result,
  error: r.error,
  attempts: r.attempts,
  queuedAt: r.queued_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export class JobRuns {
  constructor(private readonly pool: Pool) {}

  /** Records a queued run; false when the job id was queued before (the enqueue is then a no-op). */
  async queued(jobId: string, name: string, businessDate: string, rerun: boolean): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO job_runs (job_id, name, business_date, rerun) VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING`,
      [jobId, name, businessDate, rerun],
    );
    return r.rowCount === 1;
  }

  /** Runs of a job for a date so far (the next rerun is numbered after them). */
  async count(name: string, businessDate: string): Promise<number> {
    const r = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_runs WHERE name = $1 AND business_date = $2`, [name, businessDate]);
    return r.rows[0]!.n;
  }

  async get(jobId: string): Promise<JobRun | null> {
    const r = await this.pool.query<Row>(`SELECT * FROM job_runs WHERE job_id = $1`, [jobId]);
    return r.rows[0] ? toRun(r.rows[0]) : null;
  }

  async started(jobId: string, name: string, businessDate: string, attempt: number): Promise<void> {
    // Upsert: a run enqueued by another process (or before this table existed) still gets its row.
    await this.pool.query(
      `INSERT INTO job_runs (job_id, name, business_date, status, attempts, started_at)
       VALUES ($1, $2, $3, 'active', $4, now())
       ON CONFLICT (job_id) DO UPDATE SET status = 'active', attempts = $4, started_at = now(), finished_at = NULL, error = NULL, progress = 0`,
      [jobId, name, businessDate, attempt],
    );
  }

  async progress(jobId: string, percent: number): Promise<void> {
    await this.pool.query(`UPDATE job_runs SET progress = $2 WHERE job_id = $1 AND status = 'active'`, [jobId, Math.max(0, Math.min(100, Math.round(percent)))]);
  }

  async completed(jobId: string, result: JobResult): Promise<void> {
    await this.pool.query(`UPDATE job_runs SET status = 'completed', progress = 100, result = $2, error = NULL, finished_at = now() WHERE job_id = $1`, [jobId, JSON.stringify(result)]);
  }

  async failed(jobId: string, error: string, final: boolean): Promise<void> {
    await this.pool.query(`UPDATE job_runs SET status = $2, error = $3, finished_at = CASE WHEN $2 = 'failed' THEN now() END WHERE job_id = $1`, [
      jobId,
      final ? 'failed' : 'retrying',
      error.slice(0, errorTextMax),
    ]);
  }
}
