// Counts the commands left pending under a key prefix across every owner (process) that
// registered there, plus the single set of older versions: what recovery would have to repair.
import type { Redis, Cluster } from 'ioredis';
import { RedisKeys } from '../../src/adapters/redis/keys.js';

export async function pendingCount(redis: Redis | Cluster, prefix: string, cluster = process.env.TEST_REDIS_CLUSTER === '1'): Promise<number> {
  const keys = new RedisKeys(prefix, 'counter', cluster);
  const owners = await redis.smembers(keys.owners());
  const sets = [...(cluster ? [] : [keys.legacyPending()]), ...owners.flatMap((owner) => keys.pendingSetsOf(owner))];
  const counts = await Promise.all(sets.map((key) => redis.scard(key)));
  return counts.reduce((a, b) => a + b, 0);
}
