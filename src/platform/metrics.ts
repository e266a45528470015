// The product's business metrics (prom-client, one registry per system): every authorization
// answer by channel, operation and code, latencies, the ledger writer, ISO 8583, jobs, drift and
// refusals. /metrics and the operations console both read these counters, so they cannot disagree.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Channel = 'http' | 'iso' | 'batch';
export const channels: readonly Channel[] = ['http', 'iso', 'batch'];

/** Latency buckets of an authorization or a commit, seconds (the target p99 is 20 ms). */
export const latencyBucketsSeconds = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Commands per ledger batch (LEDGER_BATCH_ROWS_MAX defaults to 512). */
export const batchSizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 512, 1024];
/** Nightly job durations, seconds. */
export const jobBucketsSeconds = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
/** A dependency check that takes longer than this counts as down. */
export const dependencyCheckTimeoutMs = 1000;

/** Codes that mean a PIN was wrong or its tries are used up. */
const pinFailureCodes: ReadonlySet<string> = new Set(['55', '75']);
const overloadCode = '91';

/** Why a request was refused with 503 / 91: a full queue or a dependency down, event-loop pressure, startup recovery. */
export type RefusalReason = 'overload' | 'pressure' | 'starting';

export interface DecisionCount {
  channel: string;
  operation: string;
  code: string;
  count: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly prefix = 'cc_';

  readonly authorizations = new Counter({
    name: `${this.prefix}authorizations_total`,
    help: 'Authorization answers sent, by channel (http, iso, batch), operation and response code (DESIGN §4)',
    labelNames: ['channel', 'operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly authorizationSeconds = new Histogram({
    name: `${this.prefix}authorization_duration_seconds`,
    help: 'Time from request to authorization answer, by channel (batch: one whole upload)',
    labelNames: ['channel'] as const,
    buckets: latencyBucketsSeconds,
    registers: [this.registry],
  });
  readonly ledgerBatchCommands = new Histogram({
    name: `${this.prefix}ledger_batch_commands`,
    help: 'Commands written per group-commit batch',
    buckets: batchSizeBuckets,
    registers: [this.registry],
  });
  readonly ledgerCommitSeconds = new Histogram({
    name: `${this.prefix}ledger_commit_duration_seconds`,
    help: 'Time to write and commit one ledger batch',
    buckets: latencyBucketsSeconds,
    registers: [this.registry],
  });
  readonly ledgerQueue = new Gauge({
    name: `${this.prefix}ledger_queue_commands`,
    help: 'Commands waiting for the ledger writer (LEDGER_QUEUE_MAX refuses beyond)',
    registers: [this.registry],
  });
  readonly gateSeconds = new Histogram({
    name: `${this.prefix}redis_gate_duration_seconds`,
    help: 'Time of one Redis gate script (idempotency, balance, limits, journey)',
    buckets: latencyBucketsSeconds,
    registers: [this.registry],
  });
  readonly isoMessages = new Counter({
    name: `${this.prefix}iso_messages_total`,
    help: 'ISO 8583 answers sent, by request MTI and response code (field 39)',
    labelNames: ['mti', 'code'] as const,
    registers: [this.registry],
  });
  readonly isoConnections = new Gauge({
    name: `${this.prefix}iso_connections_open`,
    help: 'Open ISO 8583 TCP connections',
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: `${this.prefix}job_runs_total`,
    help: 'Nightly job attempts by job and outcome (completed, failed: attempts used up, retrying)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobSeconds = new Histogram({
    name: `${this.prefix}job_duration_seconds`,
    help: 'Duration of a nightly job attempt, by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    buckets: jobBucketsSeconds,
    registers: [this.registry],
  });
  readonly jobLastSuccess = new Gauge({
    name: `${this.prefix}job_last_success_timestamp_seconds`,
    help: 'When each nightly job last completed (Unix time, seconds)',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly driftFound = new Counter({
    name: `${this.prefix}drift_found_cards_total`,
    help: 'Cards whose cached Redis balance differed from the ledger (redis-drift job)',
    registers: [this.registry],
  });
  readonly driftRepaired = new Counter({
    name: `${this.prefix}drift_repaired_cards_total`,
    help: 'Drifted cards whose cache was dropped to reload from the ledger',
    registers: [this.registry],
  });
  readonly loginFailures = new Counter({
    name: `${this.prefix}login_failures_total`,
    help: 'Failed citizen logins, by reason (pin: wrong card or PIN, locked, limited: too many attempts)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly pinFailures = new Counter({
    name: `${this.prefix}pin_failures_total`,
    help: 'Payments declined for a wrong PIN (55) or PIN tries exceeded (75), by channel',
    labelNames: ['channel', 'code'] as const,
    registers: [this.registry],
  });
  readonly overloadRefusals = new Counter({
    name: `${this.prefix}overload_refusals_total`,
    help: 'Requests refused under overload or while starting (HTTP 503 / code 91), by channel and reason',
    labelNames: ['channel', 'reason'] as const,
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: `${this.prefix}dependency_up`,
    help: 'Whether PostgreSQL and Redis answered a check at scrape time (1 up, 0 down)',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  /** One authorization answer as it is sent. `seconds`: its latency, when this answer ends a request. */
  decision(channel: Channel, operation: string, code: string, seconds?: number, refusal: RefusalReason = 'overload'): void {
    this.authorizations.inc({ channel, operation, code });
    if (seconds !== undefined) this.authorizationSeconds.observe({ channel }, seconds);
    if (pinFailureCodes.has(code)) this.pinFailures.inc({ channel, code });
    if (code === overloadCode) this.overloadRefusals.inc({ channel, reason: refusal });
  }

  /** A refusal of a call that is not an authorization (event-loop pressure, recovery not finished). */
  refused(channel: Channel, reason: RefusalReason): void {
    this.overloadRefusals.inc({ channel, reason });
  }

  ledgerBatch(commands: number, seconds: number): void {
    this.ledgerBatchCommands.observe(commands);
    this.ledgerCommitSeconds.observe(seconds);
  }

  jobRun(job: string, outcome: 'completed' | 'failed' | 'retrying', seconds: number, finishedAt: Date): void {
    this.jobRuns.inc({ job, outcome });
    this.jobSeconds.observe({ job, outcome }, seconds);
    if (outcome === 'completed') this.jobLastSuccess.set({ job }, finishedAt.getTime() / 1000);
  }

  drift(found: number, repaired: number): void {
    this.driftFound.inc(found);
    this.driftRepaired.inc(repaired);
  }

  /** Gauges read at scrape time from their owners. */
  watch(sources: { ledgerQueued?: () => number; isoConnections?: () => number; dependencies?: Record<string, () => Promise<unknown>> }): void {
    const { ledgerQueued, isoConnections, dependencies } = sources;
    if (ledgerQueued) setCollect(this.ledgerQueue, function (this: Gauge) { this.set(ledgerQueued()); });
    if (isoConnections) setCollect(this.isoConnections, function (this: Gauge) { this.set(isoConnections()); });
    if (dependencies) {
      setCollect(this.dependencyUp, async function (this: Gauge<'dependency'>) {
        await Promise.all(
          Object.entries(dependencies).map(async ([dependency, check]) => this.set({ dependency }, (await answersWithin(check, dependencyCheckTimeoutMs)) ? 1 : 0)),
        );
      });
    }
  }

  /** Authorization answers since start, one row per (channel, operation, code). */
  async decisionCounts(): Promise<DecisionCount[]> {
    const { values } = await this.authorizations.get();
    return values.map((v) => ({ channel: String(v.labels.channel), operation: String(v.labels.operation), code: String(v.labels.code), count: v.value }));
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}

function setCollect<T extends string>(gauge: Gauge<T>, collect: (this: Gauge<T>) => void | Promise<void>): void {
  (gauge as unknown as { collect: typeof collect }).collect = collect;
}

async function answersWithin(check: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([check().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
