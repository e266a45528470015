// Population registry area (docs/registry.md): departments and people, the card effects of
// registry changes (concession, insured, blocking), the statistics tables (docs/statistics.md) and
// the fare-policy sandbox, with their routes.
import type { Area } from './index.js';
import type { System } from '../system.js';
import { PgPopulation } from '../adapters/postgres/population.js';
import { registryRoutes } from '../adapters/http/routes/registry.js';
import { RegistryService } from '../app/registry.js';
import { RegistryCards } from '../app/registry-cards.js';
import { seniorAgeDefault, type ConcessionRules } from '../domain/registry/concession.js';
import { transitOf } from '../app/transit.js';
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

export interface RegistryArea {
  registry: RegistryService;
  cards: RegistryCards;
  sandbox: FareSandbox;
  stats: StatsService;
}

const installed = new WeakMap<System, RegistryArea>();

export function registryOf(system: System): RegistryArea {
  const area = installed.get(system);
  if (!area) throw new Error('the registry area is not installed');
  return area;
}

/** The senior age of the policy file (`concessions.senior.age`); a bad value stops the start. */
export function concessionRulesOf(policy: System['policy']): ConcessionRules {
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

export const registryArea: Area = {
  name: 'registry',
  async install(system) {
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
    // The transit hook: a cached card type past its date (a birthday) is recomputed before the tap is rated.
    transitOf(system).card.typeRefresh = (cardNo) => cardEffects.refresh(cardNo);
    // A card issued to a person already in the registry starts with the registry's concession.
    const admin = system.admin;
    const createCard = admin.createCard.bind(admin);
    admin.createCard = async (c) => {
      const issued = await createCard(c);
      await cardEffects.refresh(issued.cardNo).catch((error: unknown) => log.error({ err: error, card: maskCardNo(issued.cardNo) }, 'could not apply the registry to a new card'));
      return issued;
    };
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
    installed.set(system, { registry, cards, sandbox, stats });
    await system.http.register(statsRoutes, { stats, registry });
    await system.http.register(registryRoutes, { registry });
    await system.http.register(fareSandboxRoutes, { sandbox });
    system.onStart.push(() => sandbox.resume());
    system.onClose.push(() => sandbox.close());
  },
};
