// The composition root: builds the core from the configuration, then each area from the parts it
// names, the HTTP app with every area's routes, and the start and close of the whole. main.ts runs
// it; tests build the same system against their own database and Redis key prefix.
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import { buildHttpApp } from './adapters/http/app.js';
import { recover, recoverDeadOwners } from './app/recovery.js';
import { OwnerLease } from './app/ownership.js';
import { loadParties, seedDemo } from './app/bootstrap.js';
import type { Config } from './platform/config.js';
import { buildCore, type Core, type CoreOptions } from './wiring/core.js';
import type { AreaHooks } from './wiring/area.js';
import { createCitizenArea, type CitizenArea } from './wiring/citizen.js';
import { createMedicalArea, type MedicalArea } from './wiring/medical.js';
import { createIsoArea, type IsoArea } from './wiring/iso.js';
import { buildPki, createPkiArea, type PkiArea } from './wiring/pki.js';
import { createJobsArea, type JobsArea } from './wiring/jobs.js';
import { createTransitArea, type TransitArea } from './wiring/transit.js';
import { createRegistryArea, type RegistryArea } from './wiring/registry.js';
import { demoTerminalsFile } from './wiring/where-to-go.js';
import { PgDemoSeed } from './adapters/postgres/demo-seed.js';

export interface System extends Core {
  http: FastifyInstance;
  /** Citizen API (login, own card, history, loss report, top-up orders), operations console, pages. */
  citizen: CitizenArea;
  /** Medical presettle, settle and cancel (docs/medical.md). */
  medical: MedicalArea;
  /** ISO 8583 gateway for POS terminals (listening when ROLE is all, iso or web). */
  iso: IsoArea;
  /** Terminal CA, enrolment, blocking, mTLS listeners. */
  pki: PkiArea;
  /** Nightly jobs: BullMQ queue, worker and schedulers (ROLE all or worker), /v1/admin/jobs, /admin/queues. */
  jobs: JobsArea;
  /** Transit: taps, offline uploads, hotlist, journeys (docs/transit.md). */
  transit: TransitArea;
  /** Population registry, card concessions from it, statistics, fare sandbox (docs/registry.md). */
  registryArea: RegistryArea;
  /** Startup recovery finished: money and card calls are served. */
  recovered: boolean;
  /** Runs recovery, loads the policy's parties and (unless SEED=0) the demo data, then starts the areas. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SystemOptions extends CoreOptions {
  /** When this process's owner lease lapsed (default: exit, so that a supervisor restarts it). */
  onLeaseLost?: () => void;
}

export async function buildSystem(config: Config, options: SystemOptions = {}): Promise<System> {
  const core = await buildCore(config, options);
  const { log, clock, pool, redis, keys, gate, ledger, policy } = core;
  const state = { recovered: false };
  const health = {
    postgres: async () => {
      await pool.query('SELECT 1');
    },
    redis: async () => {
      if (redis.status !== 'ready') throw new Error(`redis ${redis.status}`);
      await redis.ping();
    },
    redisReady: () => redis.status === 'ready',
    recovered: () => state.recovered,
  };
  core.metrics.watch({ ledgerQueued: () => ledger.queued, dependencies: { postgres: health.postgres, redis: health.redis } });
  // Built before the HTTP app, whose auth asks the mTLS gate for HTTPS callers' terminals.
  const pkiParts = buildPki(core);
  const http = await buildHttpApp({
    logger: log,
    metrics: core.metrics,
    adminToken: config.adminToken,
    jwtSecret: config.jwtSecret,
    maxEventLoopDelayMs: config.eventLoopDelayMaxMs,
    terminals: core.terminals,
    registry: core.registry,
    tlsTerminalOf: (socket) => pkiParts.gate.terminalOf(socket),
    terminalTlsOnly: config.terminalTlsOnly,
    admin: core.admin,
    money: core.money,
    cards: core.cards,
    health,
  });

  const citizen = createCitizenArea({ ...core, http });
  const medical = createMedicalArea(core);
  const iso = createIsoArea({ ...core, medical });
  const pki = createPkiArea({ ...core, parts: pkiParts, http, iso });
  const registryArea = await createRegistryArea(core);
  const transit = createTransitArea({ ...core, typeRefresh: (cardNo) => registryArea.cards.refresh(cardNo) });
  core.admin.places = transit.policies;
  const jobs = createJobsArea({ ...core, transit });
  // Routes are registered, and areas started, in this order; they close in the reverse one.
  const areas: AreaHooks[] = [citizen, medical, iso, pki, jobs, transit, registryArea];
  for (const area of areas) if (area.routes) await area.routes(http);

  const lease = new OwnerLease(redis, keys, config.ownerLeaseMs, log, options.onLeaseLost ?? (() => process.exit(70)));
  let sweep: NodeJS.Timeout | null = null;
  const start = async () => {
    await lease.register(clock.now());
    await recover(redis, keys, gate, log);
    // While serving, the marks of owners that die are recovered by whoever notices first.
    sweep = setInterval(() => void recoverDeadOwners(redis, keys, gate, log).catch((error: unknown) => log.warn({ err: error }, 'recovery sweep failed')), config.ownerLeaseMs);
    sweep.unref();
    await loadParties(policy, core.admin, log);
    if (config.seed) {
      await seedDemo({
        store: new PgDemoSeed(pool),
        registry: core.registry,
        admin: core.admin,
        ledger,
        secrets: core.secrets,
        clock,
        log,
        count: policy.demoCards?.count ?? 1000,
        terminalsFile: path.resolve(demoTerminalsFile),
      });
    }
    for (const area of areas) if (area.onStart) await area.onStart();
    state.recovered = true;
  };
  const close = async () => {
    await http.close();
    for (const area of [...areas].reverse()) if (area.onClose) await area.onClose().catch((error: unknown) => log.warn({ err: error }, 'close hook failed'));
    await ledger.close();
    if (sweep) clearInterval(sweep);
    await lease.release().catch((error: unknown) => log.warn({ err: error }, 'owner lease release failed'));
    redis.disconnect();
    await pool.end();
  };
  return {
    ...core,
    http,
    citizen,
    medical,
    iso,
    pki,
    jobs,
    transit,
    registryArea,
    get recovered() {
      return state.recovered;
    },
    set recovered(done: boolean) {
      state.recovered = done;
    },
    start,
    close,
  };
}
