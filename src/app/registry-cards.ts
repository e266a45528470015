// The card follows the registry: a linked person's cards get the concession type the registry
// gives (effective from the change, recomputed on the birthday that reaches the senior age), the
// social-security insured flag, and are blocked with the reason when the person died or moved away.
import { cardEffectOf, type ConcessionRules } from '../domain/registry/concession.js';
import type { FieldValue } from '../domain/registry/fields.js';
import { businessDateOf } from '../domain/business-day.js';
import { maskCardNo } from '../domain/card-number.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { PgPopulation, PersonRow } from '../adapters/postgres/population.js';
import type { FieldCodec } from './registry-values.js';

/** Fields whose change can change a card. */
export const cardFields: readonly string[] = ['birthDate', 'disabilityCertificate', 'studentEnrolment', 'lifeStatus', 'residenceStatus', 'insured'];

export interface RegistryCardsDeps {
  population: PgPopulation;
  codec: FieldCodec;
  /** Writes fields of a cached card state (only when cached). */
  setCachedFields(cardNo: string, fields: Record<string, string>): Promise<void>;
  /** Blocks a card through the admin use case (PostgreSQL, cache, hotlist). */
  block(cardNo: string): Promise<void>;
  rules: ConcessionRules;
  clock: Clock;
  log: Logger;
}

export class RegistryCards {
  constructor(private readonly deps: RegistryCardsDeps) {}

  /** After a change of a person: applies what the registry now says to the person's cards. */
  async apply(person: PersonRow, values: ReadonlyMap<string, FieldValue>, changed: readonly string[]): Promise<void> {
    if (person.citizenId === null || !changed.some((f) => cardFields.includes(f))) return;
    await this.applyToCitizen(person.citizenId, values, changed.includes('insured'));
  }

  /** The registry's view of one card again (a card just issued, a cached type past its date). */
  async refresh(cardNo: string): Promise<void> {
    const citizenId = await this.deps.population.cardCitizen(cardNo);
    if (citizenId === null) return;
    const person = await this.deps.population.personOfCitizen(citizenId);
    if (!person) {
      // Not in the registry (any more): the issued type applies.
      await this.deps.population.setCardRegistryType(cardNo, null, null);
      await this.deps.setCachedFields(cardNo, { tu: '' });
      return;
    }
    await this.applyToCitizen(citizenId, this.deps.codec.decodeAll(person.fields), false);
  }

  private async applyToCitizen(citizenId: bigint, values: ReadonlyMap<string, FieldValue>, insuredChanged: boolean): Promise<void> {
    const effect = cardEffectOf(values, this.deps.rules, businessDateOf(this.deps.clock.now()));
    if (insuredChanged && typeof values.get('insured') === 'boolean') await this.deps.population.setCitizenInsured(citizenId, values.get('insured') as boolean);
    for (const card of await this.deps.population.cardsOfCitizen(citizenId)) {
      // PostgreSQL first (a cache rebuilt later reads it), then the cached state used by the next tap.
      await this.deps.population.setCardRegistryType(card.cardNo, effect.cardType, effect.until);
      await this.deps.setCachedFields(card.cardNo, { ty: effect.cardType ?? card.cardType, tu: effect.until ?? '' });
      if (effect.blockReason && card.status === 'active') {
        await this.deps.block(card.cardNo);
        await this.deps.population.setCardStatusReason(card.cardNo, effect.blockReason);
        this.deps.log.info({ card: maskCardNo(card.cardNo), reason: effect.blockReason }, 'card blocked by the registry');
      }
    }
  }
}
