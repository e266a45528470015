// Scale-out configuration (DESIGN §12) and the Redis Cluster slot arithmetic the key layout relies on.
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { loadConfig, ConfigError } from '../../src/platform/config.js';
import { crc16, keySlot, slotTags } from '../../src/adapters/redis/slots.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { clusterSeeds } from '../../src/adapters/redis/client.js';

describe('scale-out configuration', () => {
  it('WEB_CONCURRENCY defaults to the number of cores and is validated', () => {
    expect(loadConfig({}).webConcurrency).toBe(availableParallelism());
    expect(loadConfig({ WEB_CONCURRENCY: '3' }).webConcurrency).toBe(3);
    expect(() => loadConfig({ WEB_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEB_CONCURRENCY: 'many' })).toThrow(/WEB_CONCURRENCY/);
  });

  it('REDIS_CLUSTER=1 reads REDIS_URL as a list of seeds, each a redis:// URL', () => {
    const c = loadConfig({ REDIS_CLUSTER: '1', REDIS_URL: 'redis://10.0.0.1:7000, redis://10.0.0.2:7001' });
    expect(c.redisCluster).toBe(true);
    expect(c.redisSeeds).toEqual(['redis://10.0.0.1:7000', 'redis://10.0.0.2:7001']);
    expect(clusterSeeds(c.redisUrl).nodes).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }]);
    expect(() => loadConfig({ REDIS_CLUSTER: '1', REDIS_URL: 'redis://a:1,http://b:2' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER/);
    expect(loadConfig({}).redisCluster).toBe(false);
  });

  it('ROLE accepts web (HTTP and ISO without the jobs worker) besides all, api, iso and worker', () => {
    expect(loadConfig({ ROLE: 'web' }).role).toBe('web');
    expect(() => loadConfig({ ROLE: 'jobs' })).toThrow(/ROLE/);
  });

  it('OWNER_LEASE_MS is bounded', () => {
    expect(loadConfig({}).ownerLeaseMs).toBe(30_000);
    expect(() => loadConfig({ OWNER_LEASE_MS: '10' })).toThrow(/OWNER_LEASE_MS/);
  });
});

describe('cluster slots', () => {
  it('CRC16/XMODEM and hash tags as Redis computes them', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182); // CLUSTER KEYSLOT foo
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(8363); // an empty first tag: the whole key hashes (CLUSTER KEYSLOT)
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar')); // the tag is between the first { and the next }
  });

  it('one tag per slot, and a pending set per owner on each card’s slot', () => {
    const tags = slotTags();
    expect(tags).toHaveLength(16384);
    tags.forEach((tag, slot) => expect(crc16(tag) % 16384).toBe(slot));
    const keys = new RedisKeys('cc:', 'owner-1', true);
    for (const cardNo of ['6200000000000001', '6200000000000019', '6200000000000027']) {
      expect(keySlot(keys.pending(cardNo))).toBe(keySlot(keys.cardState(cardNo)));
    }
    expect(keys.pendingSetsOf('owner-1')).toHaveLength(16384);
    expect(new RedisKeys('cc:', 'owner-1').pending()).toBe('cc:pending:owner-1');
  });
});
