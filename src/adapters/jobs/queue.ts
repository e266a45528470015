// BullMQ plumbing of the nightly jobs: one queue ("nightly") with a named job per kind of run,
// its job schedulers (cron in Asia/Shanghai), and a worker of concurrency 1 that runs the jobs in
// the order they were queued. Every run is keyed by job name and business date, recorded in
// job_runs, and serialised per (name, date) by a PostgreSQL advisory lock.
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../redis/client.js';
import type { Pool } from '../postgres/db.js';
import type { Logger } from '../../platform/logger.js';
import type { Clock } from '../../platform/clock.js';
import { cronPattern, isJobName, nightlyCalendar, previousBusinessDate, runJobId, scheduleTimezone, type JobName } from '../../app/jobs/calendar.js';
import type { JobContext, JobResult, JobRunner, ReportSink } from '../../app/jobs/ports.js';
import type { JobRun, JobRuns } from './job-runs.js';

export const nightlyQueueName = 'nightly';

export interface NightlyJobsOptions {
  /** Tries of one run before it is failed. */
  attempts: number;
  /** First retry delay; doubled each try (exponential backoff). */
  backoffMs: number;
  /** A worker's lock on a running job; a crashed worker's job is taken back after it lapses. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long close waits for a running job before it stops the worker without it. */
  closeTimeoutMs: number;
  /** How often the schedulers are checked and re-created when Redis lost them (a flush, a failover). */
  schedulerCheckMs: number;
}

export const defaultNightlyJobsOptions: NightlyJobsOptions = {
  attempts: 5,
  backoffMs: 30_000,
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  closeTimeoutMs: 15_000,
  schedulerCheckMs: 30_000,
};

/** Finished BullMQ records kept in Redis (job_runs keeps every run). */
export const completedKeptMax = 1000;
export const keptAgeSeconds = 90 * 24 * 3600;

type RunData = { name: JobName; businessDate: string; rerun: boolean };
type TriggerData = { trigger: 'schedule'; name: JobName };
type JobData = RunData | TriggerData;

export interface RunState {
  jobId: string;
  name: string;
  businessDate: string;
  rerun: boolean;
  /** The run's status in job_runs; while merely queued, the queue's own state (waiting, delayed…). */
  state: string;
  queueState: string | null;
  progress: number;
  attempts: number;
  result: JobResult | null;
  error: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NightlyJobsDeps {
  redisUrl: string;
  /** `redisUrl` lists the seeds of a Redis Cluster. */
  redisCluster?: boolean;
  /** BullMQ key prefix, derived from REDIS_KEY_PREFIX so that each system (and test) has its own. */
  prefix: string;
  pool: Pool;
  runs: JobRuns;
  runners: Record<JobName, JobRunner>;
  reports: ReportSink;
  log: Logger;
  clock: Clock;
  options?: Partial<NightlyJobsOptions>;
  /** Observer of every attempt (the job metrics): outcome, duration in seconds, when it ended. */
  onAttempt?: (name: JobName, outcome: 'completed' | 'failed' | 'retrying', seconds: number, finishedAt: Date) => void;
}

function jobsRedis(url: string, forWorker: boolean, cluster = false): Redis {
  // Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null);
  // the queue answers HTTP calls and should fail fast when Redis is down.
  const redis = connectRedis(url, cluster, { maxRetriesPerRequest: forWorker ? null : 2, enableReadyCheck: true, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  return redis;
}

/** When a scheduler's run was due: its id is `repeat:<schedulerId>:<millis>`. */
export function plannedAt(job: Pick<Job, 'id' | 'timestamp'>, now: Date): Date {
  const millis = Number(/:(\d+)$/.exec(job.id ?? '')?.[1]);
  return Number.isSafeInteger(millis) && millis > 0 ? new Date(millis) : now;
}

export class NightlyJobs {
  readonly queue: Queue<JobData>;
  readonly options: NightlyJobsOptions;
  private worker: Worker<JobData> | null = null;
  private scheduleTimer: NodeJS.Timeout | null = null;
  private readonly connections: Redis[] = [];
  /** Test hook: called at each checkpoint of a run; throwing there is a crash halfway. */
  onCheckpoint: ((ctx: JobContext, point: string) => Promise<void> | void) | null = null;

  constructor(private readonly deps: NightlyJobsDeps) {
    this.options = { ...defaultNightlyJobsOptions, ...deps.options };
    const connection = jobsRedis(deps.redisUrl, false, deps.redisCluster);
    this.connections.push(connection);
    this.queue = new Queue<JobData>(nightlyQueueName, { connection, prefix: deps.prefix });
    this.queue.on('error', (error) => deps.log.warn({ err: error }, 'jobs queue error'));
  }

  private jobOptions() {
    return {
      attempts: this.options.attempts,
      backoff: { type: 'exponential' as const, delay: this.options.backoffMs },
      removeOnComplete: { age: keptAgeSeconds, count: completedKeptMax },
      removeOnFail: { age: keptAgeSeconds, count: completedKeptMax },
    };
  }

  /**
   * Queues the run of `name` for a date. The first run's id is `<name>@<date>`, so asking again is
   * a no-op; `rerun` makes the next run (`<name>@<date>@r<n>`) once a run exists.
   */
  async enqueue(name: JobName, businessDate: string, opts: { rerun?: boolean } = {}): Promise<{ jobId: string; created: boolean }> {
    const previous = opts.rerun ? await this.deps.runs.count(name, businessDate) : 0;
    const jobId = runJobId(name, businessDate, previous + 1);
    const created = await this.deps.runs.queued(jobId, name, businessDate, previous > 0);
    const data: RunData = { name, businessDate, rerun: previous > 0 };
    if (created) {
      await this.queue.add(name, data, { ...this.jobOptions(), jobId });
    } else {
      // Queued before: add it back only if its queue record was lost (Redis flushed) before it finished.
      const run = await this.deps.runs.get(jobId);
      const unfinished = run !== null && run.status !== 'completed' && run.status !== 'failed';
      if (unfinished && !(await this.queue.getJob(jobId))) await this.queue.add(name, data, { ...this.jobOptions(), jobId });
    }
    return { jobId, created };
  }

  async state(name: string, jobId: string): Promise<RunState | null> {
    const [run, job] = await Promise.all([this.deps.runs.get(jobId), this.queue.getJob(jobId)]);
    if ((run && run.name !== name) || (!run && (!job || job.name !== name))) return null;
    const queueState = job ? await job.getState() : null;
    if (!run) {
      const data = job!.data as RunData;
      return { jobId, name, businessDate: data.businessDate, rerun: !!data.rerun, state: queueState ?? 'unknown', queueState, progress: 0, attempts: job!.attemptsMade, result: null, error: null, queuedAt: null, startedAt: null, finishedAt: null };
    }
    return runState(run, queueState);
  }

  /** Creates or updates the schedulers of the calendar (idempotent; safe from several processes). */
  async schedule(): Promise<void> {
    for (const entry of nightlyCalendar) {
      await this.queue.upsertJobScheduler(
        entry.name,
        { pattern: cronPattern(entry.at), tz: scheduleTimezone },
        { name: entry.name, data: { trigger: 'schedule', name: entry.name }, opts: { ...this.jobOptions(), removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
    }
  }

  /** Names of the calendar's schedulers that are not in Redis. */
  async missingSchedulers(): Promise<JobName[]> {
    const missing: JobName[] = [];
    for (const entry of nightlyCalendar) if (!(await this.queue.getJobScheduler(entry.name))) missing.push(entry.name);
    return missing;
  }

  /**
   * Keeps the schedulers alive: a Redis flush (or a failover to an empty replica) deletes them and
   * nothing would run again. Checked every `schedulerCheckMs` (upsert is idempotent, so several
   * processes doing it at once is harmless).
   */
  keepScheduled(): void {
    if (this.scheduleTimer) return;
    let running = false;
    this.scheduleTimer = setInterval(() => {
      if (running) return;
      running = true;
      this.restoreSchedulers()
        .catch((error: unknown) => this.deps.log.warn({ err: error }, 'job scheduler check failed'))
        .finally(() => {
          running = false;
        });
    }, this.options.schedulerCheckMs);
    this.scheduleTimer.unref();
  }

  private async restoreSchedulers(): Promise<void> {
    const missing = await this.missingSchedulers();
    if (missing.length === 0) return;
    await this.schedule();
    this.deps.log.warn({ missing }, 'job schedulers were missing in Redis (flushed?); re-created');
  }

  startWorker(): void {
    if (this.worker) return;
    const connection = jobsRedis(this.deps.redisUrl, true, this.deps.redisCluster);
    this.connections.push(connection);
    const worker = new Worker<JobData>(nightlyQueueName, (job) => this.process(job), {
      connection,
      prefix: this.deps.prefix,
      concurrency: 1,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: 1,
    });
    worker.on('error', (error) => this.deps.log.warn({ err: error }, 'jobs worker error'));
    worker.on('failed', (job, error) => this.deps.log.warn({ jobId: job?.id, err: error.message, attemptsMade: job?.attemptsMade }, 'job attempt failed'));
    this.worker = worker;
  }

  /** Stops the worker; `force` does not wait for the running job (its lock lapses and another worker takes it). */
  async stopWorker(force = false): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    if (force) return worker.close(true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.closeTimeoutMs);
    });
    const outcome = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.deps.log.warn('a nightly job was still running at close; its lock will lapse and another worker will take it');
      await worker.close(true);
    }
  }

  async close(): Promise<void> {
    if (this.scheduleTimer) clearInterval(this.scheduleTimer);
    this.scheduleTimer = null;
    await this.stopWorker();
    await this.queue.close().catch(() => undefined);
    for (const c of this.connections) c.disconnect();
  }

  private async process(job: Job<JobData>): Promise<JobResult> {
    const data = job.data;
    if ('trigger' in data) {
      if (!isJobName(data.name)) throw new UnrecoverableError(`unknown job ${data.name}`);
      // A scheduler's tick queues the run of the business date that closed before it was due.
      const businessDate = previousBusinessDate(plannedAt(job, this.deps.clock.now()));
      const { jobId, created } = await this.enqueue(data.name, businessDate);
      this.deps.log.info({ job: data.name, businessDate, jobId, created }, 'scheduled run queued');
      return { enqueued: jobId, created };
    }
    if (!isJobName(data.name)) throw new UnrecoverableError(`unknown job ${data.name}`);
    const jobId = job.id!;
    const attempt = job.attemptsMade + 1;
    const lock = await this.lock(data.name, data.businessDate);
    try {
      await this.deps.runs.started(jobId, data.name, data.businessDate, attempt);
      const log = this.deps.log.child({ job: data.name, businessDate: data.businessDate, jobId, attempt });
      const ctx: JobContext = {
        name: data.name,
        businessDate: data.businessDate,
        jobId,
        attempt,
        log,
        reports: this.deps.reports,
        progress: async (percent) => {
          await job.updateProgress(percent);
          await this.deps.runs.progress(jobId, percent);
        },
        checkpoint: async (point) => {
          if (this.onCheckpoint) await this.onCheckpoint(ctx, point);
        },
      };
      const started = Date.now();
      try {
        const result = await this.deps.runners[data.name](ctx);
        await this.deps.runs.completed(jobId, result);
        log.info({ ms: Date.now() - started }, 'job completed');
        this.deps.onAttempt?.(data.name, 'completed', (Date.now() - started) / 1000, this.deps.clock.now());
        return result;
      } catch (error) {
        const final = error instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
        await this.deps.runs.failed(jobId, error instanceof Error ? error.message : String(error), final).catch(() => undefined);
        log.warn({ err: error, final }, 'job attempt failed');
        this.deps.onAttempt?.(data.name, final ? 'failed' : 'retrying', (Date.now() - started) / 1000, this.deps.clock.now());
        throw error;
      }
    } finally {
      await lock.release();
    }
  }

  /** One run of a job for a date at a time, across every worker process. */
  private async lock(name: string, businessDate: string): Promise<{ release(): Promise<void> }> {
    const client = await this.deps.pool.connect();
    const key = `jobs:${name}:${businessDate}`;
    try {
      const r = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [key]);
      if (!r.rows[0]!.ok) throw new Error(`another run of ${name} for ${businessDate} is in progress`);
    } catch (error) {
      client.release();
      throw error;
    }
    return {
      release: async () => {
        try {
          await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
          client.release();
        } catch {
          client.release(true);
        }
      },
    };
  }
}

export function runState(run: JobRun, queueState: string | null): RunState {
  return {
    jobId: run.jobId,
    name: run.name,
    businessDate: run.businessDate,
    rerun: run.rerun,
    state: run.status === 'queued' && queueState !== null && queueState !== 'unknown' ? queueState : run.status,
    queueState,
    progress: run.progress,
    attempts: run.attempts,
    result: run.result,
    error: run.error,
    queuedAt: run.queuedAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}
