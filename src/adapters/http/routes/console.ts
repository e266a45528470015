// Admin read calls behind the operations console (/console): live authorization counts, ridership,
// the nightly jobs' latest runs and the Redis/PostgreSQL drift sample. Admin token only.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from '../../postgres/db.js';
import type { CardRedis } from '../../redis/client.js';
import type { RedisKeys } from '../../redis/keys.js';
import { dayCaption, latestJobRuns, ridership, sampleDrift, type OutcomeSampler } from '../../../app/console.js';
import { businessDateOf } from '../../../domain/business-day.js';
import type { Clock } from '../../../platform/clock.js';
import { allow } from '../auth.js';

export interface ConsoleRouteDeps {
  sampler: OutcomeSampler;
  pool: Pool;
  redis: CardRedis;
  keys: RedisKeys;
  clock: Clock;
}

const BusinessDateQuery = Type.Object(
  { businessDate: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'YYYY-MM-DD; default: the current business day' })) },
  { additionalProperties: false },
);

const Count = Type.Union([Type.Integer(), Type.Null()], { description: 'null when under the publication minimum' });

export const consoleRoutes: FastifyPluginAsyncTypebox<ConsoleRouteDeps> = async (app, deps) => {
  app.addHook('preValidation', allow('admin'));

  app.get(
    '/v1/admin/stats',
    {
      schema: {
        tags: ['console'],
        summary: 'Authorization counts',
        description:
          'Authorizations per second (one-second samples of the last five minutes, this process) and answers sent since start: by response code, and by channel (http, iso, batch), operation and code. Read from the counter that /metrics exposes as cc_authorizations_total.',
        response: {
          200: Type.Object({
            sampleMs: Type.Integer(),
            perSecond: Type.Integer(),
            peakPerSecond: Type.Integer(),
            approved: Type.Integer(),
            declined: Type.Integer(),
            totals: Type.Array(Type.Object({ code: Type.String(), meaning: Type.String(), count: Type.Integer() })),
            channels: Type.Array(Type.Object({ channel: Type.String(), operation: Type.String(), code: Type.String(), meaning: Type.String(), count: Type.Integer() })),
            samples: Type.Array(Type.Object({ at: Type.String(), total: Type.Integer(), byCode: Type.Record(Type.String(), Type.Integer()) })),
          }),
        },
      },
    },
    async () => deps.sampler.snapshot(),
  );

  app.get(
    '/v1/admin/console/ridership',
    {
      schema: {
        tags: ['console'],
        querystring: BusinessDateQuery,
        response: {
          200: Type.Object({
            businessDate: Type.String(),
            from: Type.String(),
            to: Type.String(),
            source: Type.String(),
            cellMin: Type.Integer(),
            byRouteHour: Type.Array(Type.Object({ route: Type.String(), hour: Type.Integer(), count: Count, suppressed: Type.Boolean() })),
            routes: Type.Array(Type.Object({ route: Type.String(), total: Count })),
            od: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), count: Count, suppressed: Type.Boolean() })),
            stations: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const businessDate = request.query.businessDate ?? businessDateOf(deps.clock.now());
      const answer = await ridership(deps.pool, businessDate);
      return { ...answer, ...dayCaption(businessDate) };
    },
  );

  app.get(
    '/v1/admin/console/jobs',
    {
      schema: {
        tags: ['console'],
        description: 'The latest nightly job runs (job_runs), when the jobs area has created that table.',
        response: {
          200: Type.Object({
            available: Type.Boolean(),
            columns: Type.Array(Type.String()),
            runs: Type.Array(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
          }),
        },
      },
    },
    async () => latestJobRuns(deps.pool),
  );

  app.get(
    '/v1/admin/console/drift',
    {
      schema: {
        tags: ['console'],
        description: 'Cached purse/medical balances of a sample of cards against PostgreSQL.',
        response: {
          200: Type.Object({
            at: Type.String(),
            sampled: Type.Integer(),
            matched: Type.Integer(),
            inFlight: Type.Integer(),
            ok: Type.Boolean(),
            drifted: Type.Array(Type.Object({ card: Type.String(), redisPurse: Type.Integer(), pgPurse: Type.Integer(), redisMedical: Type.Integer(), pgMedical: Type.Integer() })),
          }),
        },
      },
    },
    async () => sampleDrift(deps.redis, deps.keys, deps.pool, deps.clock),
  );
};
