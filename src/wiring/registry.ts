// Population registry area (docs/registry.md): departments and people, the card effects of
// registry changes (concession, insured, blocking), the statistics tables (docs/statistics.md) and
// the fare-policy sandbox, with their routes.
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import type { PolicyFile } from '../app/bootstrap.js';
import { PgPopulation } from '../adapters/postgres/population.js';
import { registryRoutes } from '../adapters/http/routes/registry.js';
import { RegistryService } from '../app/registry.js';
import { RegistryCards } from '../app/registry-cards.js';
import { seniorAgeDefault, type ConcessionRules } from '../domain/registry/concession.js';
import { maskCardNo } from '../domain/card-number.js';
import { FareSandbox } from '../app/fare-sandbox.js';
import { PgFareSandbox } from '../adapters/postgres/fare-sandbox.js';
import { acceptedTapsOfDay } from '../adapters/postgres/transit-taps.js';
import { TransitStore } from '../adapters/postgres/transit-store.js';
import { FarePolicies } from '../app/transit-policies.js';
import { parsePolicy } from '../domain/fare/index.js';
import { fareSandboxRoutes } from '../adapters/http/routes/fare-sandbox.js';
import { StatsService } from '../app/stats.js';
import { PgStats } from '../adapters/postgres/stats.js';
import { statsRoutes } from '../adapters/http/routes/stats.js';
import { readFile } from 'node:fs/promises';

export interface RegistryArea extends AreaHooks {
  registry: RegistryService;
  cards: RegistryCards;
  sandbox: FareSandbox;
  stats: StatsService;
}

/** The senior age of the policy file (`concessions.senior.age`); a bad value stops the start. */
export function concessionRulesOf(policy: PolicyFile): ConcessionRules {
  const senior = (policy.concessions as { senior?: { age?: unknown } } | undefined)?.senior;
  const age = senior?.age ?? seniorAgeDefault;
  if (typeof age !== 'number' || !Number.isInteger(age) || age < 1 || age > 150) throw new Error('policy concessions.senior.age must be an integer from 1 to 150');
  return { seniorAge: age };
}

/** The districts of the metro stations for the OD-flow table (data/station-districts.json). */
async function stationDistricts(): Promise<Map<string, string>> {
  const file = new URL('../../data/station-districts.json', import.meta.url);
  const json = JSON.parse(await readFile(file, 'utf8')) as { stations?: Record<string, unknown> };
  const map = new Map<string, string>();
  for (const [station, district] of Object.entries(json.stations ?? {})) if (typeof district === 'string') map.set(station, district);
  return map;
}

/**
 * Built before the transit area, which asks its `cards.refresh` for a cached card type past its
 * date (a birthday) before a tap is rated.
 */
export async function createRegistryArea(system: Pick<Core, 'pool' | 'log' | 'secrets' | 'clock' | 'gate' | 'admin' | 'policy' | 'events'>): Promise<RegistryArea> {
  const population = new PgPopulation(system.pool);
  const log = system.log.child({ area: 'registry' });
  let cards: RegistryCards | null = null;
  const registry = new RegistryService({
    population,
    secrets: system.secrets,
    clock: system.clock,
    log,
    afterChange: async (person, values, changed) => cards?.apply(person, values, changed),
  });
  cards = new RegistryCards({
    population,
    codec: registry.codec,
    setCachedFields: (cardNo, fields) => system.gate.setFields(cardNo, fields),
    block: (cardNo) => system.admin.setCardStatus(cardNo, 'blocked'),
    rules: concessionRulesOf(system.policy),
    clock: system.clock,
    log,
  });
  const cardEffects = cards;
  // A card issued to a person already in the registry starts with the registry's concession.
  system.events.on('card-issued', async ({ cardNo }) => {
    await cardEffects.refresh(cardNo).catch((error: unknown) => log.error({ err: error, card: maskCardNo(cardNo) }, 'could not apply the registry to a new card'));
  });
  // The sandbox reads the stored policy versions itself (the one in force on the day re-rated).
  const policies = new FarePolicies(new TransitStore(system.pool), log, parsePolicy(system.policy));
  const sandbox = new FareSandbox({
    store: new PgFareSandbox(system.pool),
    tapsOfDay: (cardNos, businessDate) => acceptedTapsOfDay(system.pool, cardNos, businessDate),
    policyInForce: async (businessDate) => {
      await policies.reload();
      return policies.forDate(businessDate);
    },
    clock: system.clock,
    log,
  });
  const stats = new StatsService({ stats: new PgStats(system.pool, system.secrets.lookupHmac('stats|record-key').toString('hex')), secrets: system.secrets, stationDistricts: await stationDistricts() });
  return {
    registry,
    cards,
    sandbox,
    stats,
    async routes(app: FastifyInstance) {
      await app.register(statsRoutes, { stats, registry });
      await app.register(registryRoutes, { registry });
      await app.register(fareSandboxRoutes, { sandbox });
    },
    onStart: () => sandbox.resume(),
    onClose: () => sandbox.close(),
  };
}
