// Nightly jobs area (DESIGN §8): the runners of the calendar with their data sources, the BullMQ
// queue, the worker and schedulers (ROLE all or worker), the admin routes and the dashboard.
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import type { TransitService } from '../app/transit.js';
import { NightlyJobs, type NightlyJobsOptions } from '../adapters/jobs/queue.js';
import { JobRuns } from '../adapters/jobs/job-runs.js';
import { ReportDirectory } from '../adapters/jobs/report-file.js';
import { PgClearingSource, PgMedicalClaimsSource, PgReconcileSource } from '../adapters/jobs/ledger-sources.js';
import { PgHotlistSource } from '../adapters/jobs/hotlist-source.js';
import { OfflineBudgets } from '../adapters/postgres/offline-budgets.js';
import { offlineRideMaxFen, parsePolicy } from '../domain/fare/index.js';
import { RedisDriftSource } from '../adapters/jobs/drift-source.js';
import { PgTransitSource } from '../adapters/jobs/transit-source.js';
import { jobsDashboard, jobsRoutes } from '../adapters/http/routes/jobs.js';
import { schedulersWanted, type JobName } from '../app/jobs/calendar.js';
import type { JobRunner } from '../app/jobs/ports.js';
import { runClearing } from '../app/jobs/clearing.js';
import { runTrialBalance } from '../app/jobs/trial-balance.js';
import { runRedisDrift } from '../app/jobs/redis-drift.js';
import { runReconcileTerminals } from '../app/jobs/reconcile-terminals.js';
import { runHotlist } from '../app/jobs/hotlist.js';
import { runMedicalClaims } from '../app/jobs/medical-claims.js';
import { runCloseJourneys } from '../app/jobs/close-journeys.js';
import { runRidership } from '../app/jobs/ridership.js';

export type JobsDeps = Pick<Core, 'config' | 'pool' | 'ledger' | 'policy' | 'clock' | 'journal' | 'redis' | 'keys' | 'gate' | 'metrics' | 'log'> & {
  /** The transit area, whose service closes the day's open journeys. */
  transit: { service: Pick<TransitService, 'closeOpenJourneys'> };
};

export interface JobsArea extends AreaHooks {
  /** The nightly jobs: queue, worker and schedulers. */
  nightly: NightlyJobs;
}

/** BullMQ's keys live under the system's prefix; the hash tag keeps one queue on one Cluster slot. */
export function jobsKeyPrefix(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}{jobs}`;
}

export function buildRunners(system: JobsDeps): Record<JobName, JobRunner> {
  const { pool } = system;
  const transit = new PgTransitSource(pool);
  return {
    // The transit area rates and charges.
    'close-journeys': (ctx) => runCloseJourneys(ctx, { closer: { closeOpenJourneys: (date) => system.transit.service.closeOpenJourneys(date) } }),
    clearing: (ctx) => runClearing(ctx, { source: new PgClearingSource(pool), ledger: system.ledger }),
    'reconcile-terminals': (ctx) => runReconcileTerminals(ctx, { source: new PgReconcileSource(pool) }),
    'medical-claims': (ctx) => runMedicalClaims(ctx, { source: new PgMedicalClaimsSource(pool) }),
    hotlist: (ctx) => {
      // The budget's unit: the dearest ride of the policy file (docs/transit.md, "Offline risk budget").
      const rideMaxFen = offlineRideMaxFen(parsePolicy(system.policy));
      const budgets = new OfflineBudgets(pool);
      return runHotlist(ctx, { source: new PgHotlistSource(pool), budgets: { sync: async () => ({ ...(await budgets.sync(rideMaxFen, system.clock.now())), rideMaxFen }) } });
    },
    'trial-balance': (ctx) => runTrialBalance(ctx, { journal: system.journal }),
    'redis-drift': async (ctx) => {
      const result = await runRedisDrift(ctx, { source: new RedisDriftSource(system.redis, system.keys, pool, system.gate) });
      system.metrics.drift(Number(result.drifted ?? 0), Number(result.repaired ?? 0));
      return result;
    },
    ridership: (ctx) => runRidership(ctx, { source: transit }),
  };
}

export function createJobs(system: JobsDeps, options: Partial<NightlyJobsOptions> = {}): NightlyJobs {
  return new NightlyJobs({
    redisUrl: system.config.redisUrl,
    redisCluster: system.config.redisCluster,
    prefix: jobsKeyPrefix(system.config.redisKeyPrefix),
    pool: system.pool,
    runs: new JobRuns(system.pool),
    runners: buildRunners(system),
    reports: new ReportDirectory(system.config.reportsDir),
    log: system.log.child({ area: 'jobs' }),
    clock: system.clock,
    options,
    onAttempt: (name, outcome, seconds, finishedAt) => system.metrics.jobRun(name, outcome, seconds, finishedAt),
  });
}

export function createJobsArea(deps: JobsDeps): JobsArea {
  const jobs = createJobs(deps);
  const runsWorker = deps.config.role === 'all' || deps.config.role === 'worker';
  const schedules = schedulersWanted(process.env);
  return {
    nightly: jobs,
    async routes(app: FastifyInstance) {
      await app.register(jobsRoutes, { jobs, clock: deps.clock });
      await app.register(jobsDashboard, { jobs, adminToken: deps.config.adminToken, clock: deps.clock });
    },
    onStart: async () => {
      if (!runsWorker) return;
      if (schedules) {
        await jobs.schedule();
        jobs.keepScheduled(); // re-created if a Redis flush loses them
      }
      jobs.startWorker();
    },
    onClose: () => jobs.close(),
  };
}
