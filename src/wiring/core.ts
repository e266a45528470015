// The core of the system: configuration, logging, clock and metrics, the PostgreSQL pool and Redis,
// the ledger, the card gate, the authorizer and the core services (admin, money, card queries).
// Every area (src/wiring/*.ts) is built from it; src/system.ts composes them.
import { createPool, type Pool } from '../adapters/postgres/db.js';
import { AccountDirectory } from '../adapters/postgres/accounts.js';
import { LedgerWriter } from '../adapters/postgres/ledger-writer.js';
import { PgCardSource } from '../adapters/postgres/cards.js';
import { Registry } from '../adapters/postgres/registry.js';
import { Journal } from '../adapters/postgres/journal.js';
import { Hotlist } from '../adapters/postgres/hotlist.js';
import { PgPinGuard } from '../adapters/postgres/pin-guard.js';
import { createRedis, type CardRedis } from '../adapters/redis/client.js';
import { RedisKeys } from '../adapters/redis/keys.js';
import { CardGate } from '../adapters/redis/card-gate.js';
import { RefundHolds } from '../adapters/redis/refund-holds.js';
import { PaymentRace } from '../adapters/redis/payment-race.js';
import { TerminalDirectory } from '../adapters/http/auth.js';
import { Authorizer } from '../app/authorizer.js';
import { AdminService } from '../app/admin.js';
import { MoneyService } from '../app/money.js';
import { CardQueries } from '../app/card-queries.js';
import { Events, type CardEvents } from '../app/events.js';
import { newOwnerId } from '../app/ownership.js';
import { pinCheckOf } from '../app/pin.js';
import { format0PinBlocks } from '../adapters/iso8583/pin-block-reader.js';
import { readPolicyFile, type PolicyFile } from '../app/bootstrap.js';
import { parsePaymentLimits } from '../domain/payment-policy.js';
import type { Config } from '../platform/config.js';
import { createLogger, resolveLogFormat, type Logger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { Secrets, verifyPin } from '../platform/secrets.js';

export interface Core {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Business metrics: /metrics and the operations console read the same counters. */
  metrics: Metrics;
  /** The card events (top-ups, issued cards): the services emit, the areas subscribe. */
  events: Events<CardEvents>;
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
}

export interface CoreOptions {
  clock?: Clock;
  logger?: Logger;
  poolMax?: number;
}

export async function buildCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const log = options.logger ?? createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat));
  const clock = options.clock ?? systemClock;
  const policy = await readPolicyFile(config.policyFile);
  const pool = createPool(config.databaseUrl, options.poolMax ?? 12);
  const redis = createRedis(config.redisUrl, {}, config.redisCluster);
  const keys = new RedisKeys(config.redisKeyPrefix, newOwnerId(), config.redisCluster);
  const secrets = new Secrets(config.masterKeyHex);
  const registry = new Registry(pool);
  const journal = new Journal(pool);
  const hotlist = new Hotlist(pool);
  const accounts = new AccountDirectory(pool);
  const metrics = new Metrics();
  const events = new Events<CardEvents>();
  const ledger = new LedgerWriter(pool, accounts, {
    batchRowsMax: config.ledgerBatchRowsMax,
    batchWaitMs: config.ledgerBatchWaitMs,
    queueMax: config.ledgerQueueMax,
  });
  const gate = new CardGate(redis, keys);
  ledger.onBatch = (commands, seconds) => metrics.ledgerBatch(commands, seconds);
  gate.onGate = (seconds) => metrics.gateSeconds.observe(seconds);
  const authorizer = new Authorizer(gate, new PgCardSource(pool), ledger, log);
  const admin = new AdminService({
    registry,
    journal,
    ledger,
    gate,
    authorizer,
    secrets,
    clock,
    onCardStatus: (cardNo, status) => hotlist.record(cardNo, status !== 'active', status === 'active' ? 'cleared' : status, clock.now()),
    events,
  });
  const pinCheck = pinCheckOf({
    reader: format0PinBlocks,
    terminalPinKey: async (terminalId) => {
      const terminal = await registry.terminal(terminalId);
      return terminal ? admin.terminalKeys(terminal.keysEnc).tpk : null;
    },
    verify: verifyPin,
  });
  const money = new MoneyService({
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
    events,
  });
  const cards = new CardQueries(gate, registry, journal);
  const terminals = new TerminalDirectory(registry);
  return { config, log, clock, metrics, events, pool, redis, keys, secrets, registry, journal, hotlist, accounts, ledger, gate, authorizer, admin, money, cards, policy, terminals };
}
