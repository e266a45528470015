// The core on a Redis Cluster (REDIS_CLUSTER=1, the local 3-master cluster of
// scripts/redis-cluster.sh): slots computed here agree with the cluster's, every gate script's keys
// sit on the card's one slot, cards spread over every master, and the hot path, recovery of a dead
// owner and the BullMQ queue work across the nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createTestSystem, testRedis, type TestSystem } from '../support/system.js';
import { runJob } from './jobs-support.js';
import { issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { keySlot, slotTags } from '../../src/adapters/redis/slots.js';
import { scanTargets } from '../../src/adapters/redis/client.js';
import { jobsKeyPrefix } from '../../src/wiring/jobs.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let redis: Redis;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  redis = testRedis(sys.config);
});
afterAll(async () => {
  redis?.disconnect();
  await sys?.destroy();
});

describe('on a 3-master Redis Cluster', () => {
  it('runs against the cluster, and its slots are the ones computed here', async () => {
    expect(sys.config.redisCluster).toBe(true);
    expect(scanTargets(redis)).toHaveLength(3);
    for (const key of ['cc:{card:6200000000000001}:s', 'plain-key', 'cc:pending:o1:{s17}', '{}x', 'a{b}c{d}']) {
      expect(keySlot(key), key).toBe(Number(await redis.call('CLUSTER', 'KEYSLOT', key)));
    }
    const tags = slotTags();
    expect(new Set(tags).size).toBe(16384);
    for (const slot of [0, 1, 5460, 5461, 10922, 16383]) expect(Number(await redis.call('CLUSTER', 'KEYSLOT', `x{${tags[slot]}}`))).toBe(slot);
  });

  it('puts every key a gate script touches on the card’s slot, and cards on every master', async () => {
    const cards = await Promise.all(Array.from({ length: 12 }, () => issueCard(sys.http, { balance: 1000 })));
    for (const { cardNo } of cards) {
      const k = sys.keys;
      const slots = new Set([k.cardState(cardNo), k.cardOp(cardNo, 'payment', 'x'), k.pending(cardNo), k.cardInflight(cardNo), k.cardFare(cardNo)].map(keySlot));
      expect(slots.size, cardNo).toBe(1);
    }
    const answers = await Promise.all(cards.map(({ cardNo }, i) => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: `cl-${i}`, cardNo, amount: 300 } })));
    expect(answers.map((a) => a.json().approved)).toEqual(cards.map(() => true));
    // Every master holds some of the cards' states.
    const perNode = await Promise.all(
      scanTargets(redis).map(async (node) => {
        let cursor = '0';
        let found = 0;
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${sys.config.redisKeyPrefix}{card:*}:s`, 'COUNT', 1000);
          cursor = next;
          found += keys.length;
        } while (cursor !== '0');
        return found;
      }),
    );
    expect(perNode.every((n) => n > 0), perNode.join(',')).toBe(true);
  });

  it('keeps BullMQ under one hash tag, so its multi-key scripts run on one slot', async () => {
    const prefix = jobsKeyPrefix(sys.config.redisKeyPrefix);
    expect(prefix).toMatch(/\{[^}]+\}/);
    const run = await runJob(sys, 'trial-balance', '2024-09-03');
    expect(run.state, run.error ?? '').toBe('completed');
  });
});
