// The citizen area: citizen API (login, own card, history, loss report, kiosk top-up), the
// operations console's admin reads, and the kiosk and console pages.
import type { Area } from './index.js';
import { CitizenService } from '../app/citizen.js';
import { OutcomeSampler } from '../app/console.js';
import { PgLoginGuard } from '../adapters/postgres/citizen-login-guard.js';
import { citizenRoutes } from '../adapters/http/routes/citizen.js';
import { consoleRoutes } from '../adapters/http/routes/console.js';
import { pageRoutes } from '../adapters/http/routes/pages.js';

/** Guard rows with no live lock, untouched for this long, are forgotten. */
export const loginGuardRetainMs = 24 * 3600_000;
export const loginGuardPruneEveryMs = 3600_000;

export const citizenArea: Area = {
  name: 'citizen',
  async install(system) {
    const guard = new PgLoginGuard(system.pool);
    const citizen = new CitizenService({ registry: system.registry, cards: system.cards, admin: system.admin, money: system.money, guard, clock: system.clock });
    const sampler = new OutcomeSampler(() => system.metrics.decisionCounts(), system.clock);
    await system.http.register(citizenRoutes, { citizen });
    await system.http.register(consoleRoutes, { sampler, pool: system.pool, redis: system.redis, keys: system.keys, clock: system.clock });
    await system.http.register(pageRoutes);

    let prune: NodeJS.Timeout | null = null;
    system.onStart.push(async () => {
      sampler.start();
      prune = setInterval(() => {
        const now = system.clock.now();
        guard.prune(new Date(now.getTime() - loginGuardRetainMs), now).catch((error: unknown) => system.log.warn({ err: error }, 'login guard prune failed'));
      }, loginGuardPruneEveryMs);
      prune.unref();
    });
    system.onClose.push(async () => {
      sampler.stop();
      if (prune) clearInterval(prune);
    });
  },
};
