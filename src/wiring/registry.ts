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

export interface RegistryArea {
  registry: RegistryService;
  cards: RegistryCards;
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
    installed.set(system, { registry, cards });
    await system.http.register(registryRoutes, { registry });
  },
};
