// Counts the commands left pending under a key prefix across every owner (process) that
// registered there, plus the single set of older versions: what recovery would have to repair.
// On the test cluster (only these tests use it) the per-slot sets are found by SCAN per master
// rather than asked one by one (16,384 per owner).
import type { Redis, Cluster } from 'ioredis';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { scanTargets } from '../../src/adapters/redis/client.js';

export async function pendingCount(redis: Redis | Cluster, prefix: string, cluster = process.env.TEST_REDIS_CLUSTER === '1'): Promise<number> {
  const keys = new RedisKeys(prefix, 'counter', cluster);
  let sets: string[];
  if (cluster) {
    sets = [];
    for (const node of scanTargets(redis as Redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}pending:*`, 'COUNT', 1000);
        cursor = next;
        sets.push(...found);
      } while (cursor !== '0');
    }
  } else {
    const owners = await redis.smembers(keys.owners());
    sets = [keys.legacyPending(), ...owners.flatMap((owner) => keys.pendingSetsOf(owner))];
  }
  const counts = await Promise.all(sets.map((key) => redis.scard(key)));
  return counts.reduce((a, b) => a + b, 0);
}
