// Transit area (docs/transit.md): the fare policies (stored by version at start), the tap use cases,
// their routes, and the hotlist clearance after a top-up that ends a card's debt.
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import { TransitService } from '../app/transit.js';
import type { CardTypeRefresh } from '../app/transit-card.js';
import { FarePolicies } from '../app/transit-policies.js';
import { TransitStore } from '../adapters/postgres/transit-store.js';
import { PgCardSource } from '../adapters/postgres/cards.js';
import { transitRoutes } from '../adapters/http/routes/transit.js';
import { terminalReportRoutes } from '../adapters/http/routes/terminal-reports.js';
import { offlineBudgetRoutes } from '../adapters/http/routes/offline-budgets.js';
import { OfflineBudgets } from '../adapters/postgres/offline-budgets.js';
import { parsePolicy } from '../domain/fare/index.js';
import { maskCardNo } from '../domain/card-number.js';

export type TransitServiceDeps = Pick<Core, 'policy' | 'pool' | 'log' | 'redis' | 'keys' | 'gate' | 'authorizer' | 'clock' | 'hotlist'> & {
  /** The registry area's recomputation of a card type past its date (a birthday). */
  typeRefresh?: CardTypeRefresh | null;
};

export interface TransitArea extends AreaHooks {
  service: TransitService;
  policies: FarePolicies;
}

export function createTransit(deps: TransitServiceDeps): { transit: TransitService; policies: FarePolicies } {
  // A broken policy file stops the start here, with the field named (PolicyError).
  const filePolicy = parsePolicy(deps.policy);
  const store = new TransitStore(deps.pool);
  const log = deps.log.child({ area: 'transit' });
  const policies = new FarePolicies(store, log, filePolicy);
  const transit = new TransitService({
    pool: deps.pool,
    redis: deps.redis,
    keys: deps.keys,
    gate: deps.gate,
    authorizer: deps.authorizer,
    cards: new PgCardSource(deps.pool),
    store,
    policies,
    clock: deps.clock,
    log,
    hotlist: deps.hotlist,
    typeRefresh: deps.typeRefresh ?? null,
  });
  return { transit, policies };
}

export function createTransitArea(deps: TransitServiceDeps & Pick<Core, 'events'>): TransitArea {
  const { transit, policies } = createTransit(deps);
  // Every top-up path (terminal, bank/app, citizen, ISO) tells of its approved top-ups: one that ends a debt clears its listing.
  deps.events.on('topup-approved', async ({ cardNo, amountFen, balanceFen }) => {
    await transit.afterTopup(cardNo, amountFen, balanceFen).catch((error: unknown) => {
      deps.log.error({ err: error, card: maskCardNo(cardNo) }, 'could not clear a debt listing after a top-up');
    });
  });
  const policy = deps.policy;
  return {
    service: transit,
    policies,
    async routes(app: FastifyInstance) {
      await app.register(transitRoutes, { transit });
      await app.register(terminalReportRoutes, { pool: deps.pool });
      await app.register(offlineBudgetRoutes, { budgets: new OfflineBudgets(deps.pool) });
    },
    onStart: () => policies.start({ version: String(policy.version), effectiveFrom: String(policy.effectiveFrom), body: policy }),
  };
}
