// Medical settlements area: the claims store, the service, its HTTP routes, and a start hook that
// completes claim rows lost after a ledger commit (docs/medical.md).
import type { Area } from './index.js';
import type { System } from '../system.js';
import { PgCardSource } from '../adapters/postgres/cards.js';
import { PgMedicalClaims } from '../adapters/postgres/medical.js';
import { medicalRoutes } from '../adapters/http/routes/medical.js';
import { MedicalService } from '../app/medical.js';
import { parseMedicalPolicy } from '../domain/medical/index.js';
import { RedisLease } from '../adapters/redis/lease.js';
import { medicalLeaseMs, medicalLeaseWaitMsMax } from '../domain/payment-policy.js';

export interface MedicalArea {
  service: MedicalService;
  claims: PgMedicalClaims;
}

const installed = new WeakMap<System, MedicalArea>();

/** The medical pieces of a built system (tests, jobs). */
export function medicalOf(system: System): MedicalArea {
  const area = installed.get(system);
  if (!area) throw new Error('the medical area is not installed');
  return area;
}

export const medicalArea: Area = {
  name: 'medical',
  async install(system) {
    const claims = new PgMedicalClaims(system.pool);
    const lease = new RedisLease(system.redis, medicalLeaseMs, medicalLeaseWaitMsMax);
    const service = new MedicalService({
      authorizer: system.authorizer,
      gate: system.gate,
      cards: new PgCardSource(system.pool),
      registry: system.registry,
      claims,
      // A bad medical section is a configuration error: found here, at start.
      policy: parseMedicalPolicy(system.policy.medical),
      clock: system.clock,
      log: system.log,
      perCitizen: (citizenId, fn) => lease.run(system.keys.citizenMedicalLease(citizenId), fn),
    });
    installed.set(system, { service, claims });
    await system.http.register(medicalRoutes, { medical: service });
    system.onStart.push(async () => {
      await service.sweepOrphans();
    });
  },
};
