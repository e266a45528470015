// Medical settlements area: the claims store, the service, its HTTP routes, and a start hook that
// completes claim rows lost after a ledger commit (docs/medical.md).
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import { PgCardSource } from '../adapters/postgres/cards.js';
import { PgMedicalClaims } from '../adapters/postgres/medical.js';
import { medicalRoutes } from '../adapters/http/routes/medical.js';
import { MedicalService } from '../app/medical.js';
import { parseMedicalPolicy } from '../domain/medical/index.js';
import { LeaseBusyError, RedisLease } from '../adapters/redis/lease.js';
import { medicalLeaseMs, medicalLeaseWaitMsMax } from '../domain/payment-policy.js';

export interface MedicalArea extends AreaHooks {
  service: MedicalService;
  claims: PgMedicalClaims;
}

export function createMedicalArea(deps: Pick<Core, 'pool' | 'redis' | 'keys' | 'authorizer' | 'gate' | 'registry' | 'policy' | 'clock' | 'log'>): MedicalArea {
  const claims = new PgMedicalClaims(deps.pool);
  const lease = new RedisLease(deps.redis, medicalLeaseMs, medicalLeaseWaitMsMax);
  const service = new MedicalService({
    authorizer: deps.authorizer,
    gate: deps.gate,
    cards: new PgCardSource(deps.pool),
    registry: deps.registry,
    claims,
    // A bad medical section is a configuration error: found here, at start.
    policy: parseMedicalPolicy(deps.policy.medical),
    clock: deps.clock,
    log: deps.log,
    perCitizen: async (citizenId, fn) => {
      try {
        return { kind: 'ran', value: await lease.run(deps.keys.citizenMedicalLease(citizenId), fn) };
      } catch (error) {
        if (error instanceof LeaseBusyError) return { kind: 'busy' };
        throw error;
      }
    },
  });
  return {
    service,
    claims,
    async routes(app: FastifyInstance) {
      await app.register(medicalRoutes, { medical: service });
    },
    onStart: async () => {
      await service.sweepOrphans();
    },
  };
}
