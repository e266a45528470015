// Transit area (docs/transit.md): the fare policies (stored by version at start), the tap use cases,
// their routes, and the hotlist clearance after a top-up that ends a card's debt.
import type { Area } from './index.js';
import type { System } from '../system.js';
import { TransitService, registerTransit } from '../app/transit.js';
import { FarePolicies } from '../app/transit-policies.js';
import { TransitStore } from '../adapters/postgres/transit-store.js';
import { PgCardSource } from '../adapters/postgres/cards.js';
import { transitRoutes } from '../adapters/http/routes/transit.js';
import { terminalReportRoutes } from '../adapters/http/routes/terminal-reports.js';
import { offlineBudgetRoutes } from '../adapters/http/routes/offline-budgets.js';
import { OfflineBudgets } from '../adapters/postgres/offline-budgets.js';
import { parsePolicy } from '../domain/fare/index.js';
import { maskCardNo } from '../domain/card-number.js';

export function createTransit(system: System): { transit: TransitService; policies: FarePolicies } {
  // A broken policy file stops the start here, with the field named (PolicyError).
  const filePolicy = parsePolicy(system.policy);
  const store = new TransitStore(system.pool);
  const log = system.log.child({ area: 'transit' });
  const policies = new FarePolicies(store, log, filePolicy);
  const transit = new TransitService({
    pool: system.pool,
    redis: system.redis,
    keys: system.keys,
    gate: system.gate,
    authorizer: system.authorizer,
    cards: new PgCardSource(system.pool),
    store,
    policies,
    clock: system.clock,
    log,
    hotlist: system.hotlist,
  });
  return { transit, policies };
}

/** Every top-up path (terminal, bank/app, citizen, ISO) goes through MoneyService.topup: wrapped to clear debt listings. */
function clearDebtAfterTopups(system: System, transit: TransitService): void {
  const money = system.money;
  const topup = money.topup.bind(money);
  money.topup = async (caller, req) => {
    const outcome = await topup(caller, req);
    if (outcome.kind === 'approved' && !outcome.replayed && outcome.reply.balance !== undefined) {
      await transit.afterTopup(req.cardNo, req.amount, BigInt(String(outcome.reply.balance))).catch((error: unknown) => {
        system.log.error({ err: error, card: maskCardNo(req.cardNo) }, 'could not clear a debt listing after a top-up');
      });
    }
    return outcome;
  };
}

export const transitArea: Area = {
  name: 'transit',
  async install(system) {
    const { transit, policies } = createTransit(system);
    registerTransit(system, transit);
    clearDebtAfterTopups(system, transit);
    system.admin.places = policies;
    await system.http.register(transitRoutes, { transit });
    await system.http.register(terminalReportRoutes, { pool: system.pool });
    await system.http.register(offlineBudgetRoutes, { budgets: new OfflineBudgets(system.pool) });
    system.onStart.push(() => policies.start({ version: String(system.policy.version), effectiveFrom: String(system.policy.effectiveFrom), body: system.policy }));
  },
};
