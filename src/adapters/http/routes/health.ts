// Liveness and readiness: ready only when PostgreSQL and Redis answer and startup recovery is done.
import type { FastifyPluginAsync } from 'fastify';

export interface HealthChecks {
  postgres(): Promise<void>;
  redis(): Promise<void>;
  /** The Redis connection is up now (no command would queue behind a reconnect). */
  redisReady(): boolean;
  recovered(): boolean;
}

export const healthRoutes: FastifyPluginAsync<{ checks: HealthChecks }> = async (app, { checks }) => {
  app.get('/health/live', { schema: { tags: ['health'] } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { tags: ['health'] } }, async (_request, reply) => {
    const probe = async (fn: () => Promise<void>) => {
      try {
        await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
        return 'ok';
      } catch {
        return 'down';
      }
    };
    const [postgres, redis] = await Promise.all([probe(checks.postgres), probe(checks.redis)]);
    const recovery = checks.recovered() ? 'done' : 'running';
    const ready = postgres === 'ok' && redis === 'ok' && recovery === 'done';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', postgres, redis, recovery });
  });
};
