// The citizen area: citizen API (login, own card, history, loss report, top-up orders), the
// operations console's admin reads, and the kiosk and console pages.
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import { addressFailuresMax, addressWindowMs, CitizenService } from '../app/citizen.js';
import { RedisAddressLimiter, RedisLoginFailureLog } from '../adapters/redis/login-address-limit.js';
import { loginFailuresAlarmMax, registerLoginMetrics } from '../adapters/http/login-metrics.js';
import { OutcomeSampler } from '../app/console.js';
import { randomBytes } from 'node:crypto';
import { TopupOrders } from '../app/topup-orders.js';
import { PgLoginGuard } from '../adapters/postgres/citizen-login-guard.js';
import { PgTopupOrderStore } from '../adapters/postgres/topup-orders.js';
import { topupOrderRoutes } from '../adapters/http/routes/topup-orders.js';
import { citizenRoutes } from '../adapters/http/routes/citizen.js';
import { consoleRoutes } from '../adapters/http/routes/console.js';
import { pageRoutes } from '../adapters/http/routes/pages.js';
import { reportRoutes } from '../adapters/http/routes/reports.js';

/** Guard rows with no live lock, untouched for this long, are forgotten. */
export const loginGuardRetainMs = 24 * 3600_000;
export const loginGuardPruneEveryMs = 3600_000;

export interface CitizenArea extends AreaHooks {
  citizen: CitizenService;
  orders: TopupOrders;
}

export type CitizenAreaDeps = Pick<Core, 'pool' | 'redis' | 'keys' | 'clock' | 'log' | 'metrics' | 'config' | 'registry' | 'cards' | 'admin' | 'money'> & {
  /** The HTTP app, whose /metrics carries the login metrics. */
  http: FastifyInstance;
};

export function createCitizenArea(system: CitizenAreaDeps): CitizenArea {
  const guard = new PgLoginGuard(system.pool);
  const addresses = new RedisAddressLimiter(system.redis, system.keys, addressFailuresMax, addressWindowMs);
  const failures = new RedisLoginFailureLog(system.redis, system.keys, addressWindowMs);
  const metrics = registerLoginMetrics(system.http, (now) => failures.inWindow(now), system.clock);
  let alarmed = false;
  const citizen = new CitizenService({
    registry: system.registry,
    cards: system.cards,
    admin: system.admin,
    money: system.money,
    guard,
    addresses,
    failures: {
      async record(now) {
        await failures.record(now);
        // One warning when the fleet-wide failures cross the alarm threshold (the gauge stays on).
        const n = await failures.inWindow(now);
        if (n > loginFailuresAlarmMax && !alarmed) system.log.warn({ failures: n, threshold: loginFailuresAlarmMax }, 'citizen login failure alarm: possible PIN spraying');
        alarmed = n > loginFailuresAlarmMax;
      },
    },
    onFailure: (reason) => metrics.failure(reason),
    clock: system.clock,
  });
  const sampler = new OutcomeSampler(() => system.metrics.decisionCounts(), system.clock);
  const orders = new TopupOrders({
    store: new PgTopupOrderStore(system.pool),
    money: system.money,
    clock: system.clock,
    topupAmountMaxFen: system.config.topupAmountMaxFen,
    newId: () => randomBytes(16).toString('hex'),
  });
  let prune: NodeJS.Timeout | null = null;
  return {
    citizen,
    orders,
    async routes(app: FastifyInstance) {
      await app.register(citizenRoutes, { citizen });
      await app.register(topupOrderRoutes, { orders, clock: system.clock });
      await app.register(consoleRoutes, { sampler, pool: system.pool, redis: system.redis, keys: system.keys, clock: system.clock });
      await app.register(reportRoutes, { reportsDir: system.config.reportsDir });
      await app.register(pageRoutes);
    },
    onStart: async () => {
      sampler.start();
      prune = setInterval(() => {
        const now = system.clock.now();
        guard.prune(new Date(now.getTime() - loginGuardRetainMs), now).catch((error: unknown) => system.log.warn({ err: error }, 'login guard prune failed'));
      }, loginGuardPruneEveryMs);
      prune.unref();
    },
    onClose: async () => {
      sampler.stop();
      if (prune) clearInterval(prune);
    },
  };
}
