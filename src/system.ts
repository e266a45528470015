// Wiring: builds every piece from the configuration. main.ts runs it; tests build the same system
// against their own database and Redis key prefix.
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import { createPool, type Pool } from './adapters/postgres/db.js';
import { AccountDirectory } from './adapters/postgres/accounts.js';
import { LedgerWriter } from './adapters/postgres/ledger-writer.js';
import { PgCardSource } from './adapters/postgres/cards.js';
import { Registry } from './adapters/postgres/registry.js';
import { Journal } from './adapters/postgres/journal.js';
import { Hotlist } from './adapters/postgres/hotlist.js';
import { createRedis, type CardRedis } from './adapters/redis/client.js';
import { RedisKeys } from './adapters/redis/keys.js';
import { CardGate } from './adapters/redis/card-gate.js';
import { buildHttpApp } from './adapters/http/app.js';
import { TerminalDirectory } from './adapters/http/auth.js';
import { Authorizer } from './app/authorizer.js';
import { AdminService } from './app/admin.js';
import { MoneyService, type PinCheck } from './app/money.js';
import { CardQueries } from './app/card-queries.js';
import { recover, recoverDeadOwners } from './app/recovery.js';
import { newOwnerId, OwnerLease } from './app/ownership.js';
import { loadParties, readPolicyFile, seedDemo, type PolicyFile } from './app/bootstrap.js';
import { parsePaymentLimits } from './domain/payment-policy.js';
import type { Config } from './platform/config.js';
import { createLogger, resolveLogFormat, type Logger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import { systemClock, type Clock } from './platform/clock.js';
import { Secrets } from './platform/secrets.js';
import { verifyPin } from './platform/secrets.js';
import { pinFromEncryptedBlock } from './app/pin.js';
import { PgPinGuard } from './adapters/postgres/pin-guard.js';
import { RefundHolds } from './adapters/redis/refund-holds.js';
import { PaymentRace } from './adapters/redis/payment-race.js';
import { areas } from './wiring/index.js';
import { demoTerminalsFile } from './wiring/where-to-go.js';
import { buildPki } from './wiring/pki.js';

export interface System {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Business metrics: /metrics and the operations console read the same counters. */
  metrics: Metrics;
  pool: Pool;
  redis: CardRedis;
  keys: RedisKeys;
  secrets: Secrets;
  registry: Registry;
  journal: Journal;
  hotlist: Hotlist;
  accounts: AccountDirectory;
  ledger: LedgerWriter;
  gate: CardGate;
  authorizer: Authorizer;
  admin: AdminService;
  money: MoneyService;
  cards: CardQueries;
  policy: PolicyFile;
  terminals: TerminalDirectory;
  http: FastifyInstance;
  recovered: boolean;
  /** Hooks of the areas (src/wiring): run after recovery and the core's start data, and at close. */
  onStart: (() => Promise<void>)[];
  onClose: (() => Promise<void>)[];
  /** Runs recovery, loads the policy's parties and (unless SEED=0) the demo data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SystemOptions {
  clock?: Clock;
  logger?: Logger;
  poolMax?: number;
  /** When this process's owner lease lapsed (default: exit, so that a supervisor restarts it). */
  onLeaseLost?: () => void;
  /** Extra HTTP route plugins (other areas register theirs here). */
  plugins?: ((app: FastifyInstance, system: System) => Promise<void>)[];
}

export async function buildSystem(config: Config, options: SystemOptions = {}): Promise<System> {
  const log = options.logger ?? createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat));
  const clock = options.clock ?? systemClock;
  const pool = createPool(config.databaseUrl, options.poolMax ?? 12);
  const redis = createRedis(config.redisUrl, {}, config.redisCluster);
  const keys = new RedisKeys(config.redisKeyPrefix, newOwnerId(), config.redisCluster);
  const secrets = new Secrets(config.masterKeyHex);
  const registry = new Registry(pool);
  const journal = new Journal(pool);
  const hotlist = new Hotlist(pool);
  const accounts = new AccountDirectory(pool);
  const ledger = new LedgerWriter(pool, accounts, {
    batchRowsMax: config.ledgerBatchRowsMax,
    batchWaitMs: config.ledgerBatchWaitMs,
    queueMax: config.ledgerQueueMax,
  });
  const gate = new CardGate(redis, keys);
  const metrics = new Metrics();
  ledger.onBatch = (commands, seconds) => metrics.ledgerBatch(commands, seconds);
  gate.onGate = (seconds) => metrics.gateSeconds.observe(seconds);
  const authorizer = new Authorizer(gate, new PgCardSource(pool), ledger, log);
  const policy = await readPolicyFile(config.policyFile);
  const terminals = new TerminalDirectory(registry);
  const system = { config, log, clock, metrics, pool, redis, keys, secrets, registry, journal, hotlist, accounts, ledger, gate, authorizer, policy, terminals, recovered: false, onStart: [], onClose: [] } as unknown as System;

  system.admin = new AdminService({
    registry,
    journal,
    ledger,
    gate,
    authorizer,
    secrets,
    clock,
    onCardStatus: (cardNo, status) => hotlist.record(cardNo, status !== 'active', status === 'active' ? 'cleared' : status, clock.now()),
  });
  const pinCheck: PinCheck = async ({ terminalId, cardNo, pinBlockHex, pinHash }) => {
    const terminal = await registry.terminal(terminalId);
    if (!terminal) return false;
    const pin = pinFromEncryptedBlock(pinBlockHex, cardNo, system.admin.terminalKeys(terminal.keysEnc).tpk);
    return pin !== null && (await verifyPin(pin, pinHash));
  };
  system.money = new MoneyService({
    authorizer,
    registry,
    journal,
    clock,
    limits: parsePaymentLimits(policy.payments),
    topupAmountMaxFen: config.topupAmountMaxFen,
    pinCheck,
    pins: new PgPinGuard(pool),
    holds: new RefundHolds(redis, keys),
    race: new PaymentRace(redis, keys),
  });
  system.cards = new CardQueries(gate, registry, journal);
  const health = {
    postgres: async () => {
      await pool.query('SELECT 1');
    },
    redis: async () => {
      if (redis.status !== 'ready') throw new Error(`redis ${redis.status}`);
      await redis.ping();
    },
    redisReady: () => redis.status === 'ready',
    recovered: () => system.recovered,
  };
  metrics.watch({ ledgerQueued: () => ledger.queued, dependencies: { postgres: health.postgres, redis: health.redis } });
  system.pki = buildPki(system) as System['pki'];
  system.http = await buildHttpApp({
    logger: log,
    metrics,
    adminToken: config.adminToken,
    jwtSecret: config.jwtSecret,
    maxEventLoopDelayMs: config.eventLoopDelayMaxMs,
    terminals,
    registry,
    tlsTerminalOf: (socket) => system.pki.gate.terminalOf(socket),
    terminalTlsOnly: config.terminalTlsOnly,
    admin: system.admin,
    money: system.money,
    cards: system.cards,
    health,
    plugins: (options.plugins ?? []).map((plugin) => (app: FastifyInstance) => plugin(app, system)),
  });
  for (const area of areas) await area.install(system);

  const lease = new OwnerLease(redis, keys, config.ownerLeaseMs, log, options.onLeaseLost ?? (() => process.exit(70)));
  let sweep: NodeJS.Timeout | null = null;
  system.start = async () => {
    await lease.register(clock.now());
    await recover(redis, keys, gate, log);
    // While serving, the marks of owners that die are recovered by whoever notices first.
    sweep = setInterval(() => void recoverDeadOwners(redis, keys, gate, log).catch((error: unknown) => log.warn({ err: error }, 'recovery sweep failed')), config.ownerLeaseMs);
    sweep.unref();
    await loadParties(policy, system.admin, log);
    if (config.seed) {
      await seedDemo({
        registry,
        admin: system.admin,
        ledger,
        secrets,
        clock,
        log,
        count: policy.demoCards?.count ?? 1000,
        terminalsFile: path.resolve(demoTerminalsFile),
      });
    }
    for (const hook of system.onStart) await hook();
    system.recovered = true;
  };
  system.close = async () => {
    await system.http.close();
    for (const hook of [...system.onClose].reverse()) await hook().catch((error: unknown) => log.warn({ err: error }, 'close hook failed'));
    await ledger.close();
    if (sweep) clearInterval(sweep);
    await lease.release().catch((error: unknown) => log.warn({ err: error }, 'owner lease release failed'));
    redis.disconnect();
    await pool.end();
  };
  return system;
}
