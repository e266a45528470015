// A whole system for one test file: its own database cloned from the migrated template, its own
// Redis key prefix, the real PostgreSQL and Redis beneath, and helpers to register parties.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { buildSystem, type System, type SystemOptions } from '../../src/system.js';
import { createLogger } from '../../src/platform/logger.js';
import { adminUrl, templateDbName, urlFor } from './db-names.js';
import type { Redis } from 'ioredis';
import { connectRedis, scanTargets } from '../../src/adapters/redis/client.js';

export const adminToken = 'test-admin-token-0123';

export interface TestSystem extends System {
  dbName: string;
  logLines: string[];
  destroy(): Promise<void>;
}

/** Deletes every key under a prefix (one DEL per key: on a cluster they sit in many slots). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      deleted += (await Promise.all(keys.map((k) => redis.del(k)))).reduce((a, b) => a + b, 0);
    } while (cursor !== '0');
  }
  return deleted;
}

export async function createDatabase(): Promise<string> {
  const name = `cct_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDbName()}"`);
  } finally {
    await admin.end();
  }
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** TEST_REDIS_CLUSTER=1 (the vitest project `cluster`): the local Redis Cluster of scripts/redis-cluster.sh. */
export const testOnCluster = process.env.TEST_REDIS_CLUSTER === '1';
export const testClusterUrl = process.env.TEST_REDIS_CLUSTER_URL ?? 'redis://127.0.0.1:7101,redis://127.0.0.1:7102,redis://127.0.0.1:7103';

/** A Redis client for a test's own checks, on the server or cluster the system uses. */
export function testRedis(config: Config): Redis {
  return connectRedis(config.redisUrl, config.redisCluster, {});
}

export function testConfig(dbName: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: urlFor(dbName),
    REDIS_URL: testOnCluster ? testClusterUrl : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'),
    REDIS_CLUSTER: testOnCluster ? '1' : '0',
    REDIS_KEY_PREFIX: `t:${dbName}:`,
    ADMIN_TOKEN: adminToken,
    SEED: '0',
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    ISO_PORT: '0',
    ISO_TLS_PORT: '0',
    HTTPS_PORT: '0',
    REPORTS_DIR: `var/test-reports/${dbName}`,
    // A busy CI machine stalls event loops for long moments; back-pressure has its own test.
    EVENT_LOOP_DELAY_MAX_MS: '30000',
    ...overrides,
  });
}

export async function createTestSystem(options: SystemOptions & { env?: Record<string, string> } = {}): Promise<TestSystem> {
  const dbName = await createDatabase();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const config = testConfig(dbName, options.env);
  const system = await buildSystem(config, { logger: createLogger(config.logLevel, sink), ...options });
  await system.start();
  return Object.assign(system, {
    dbName,
    logLines,
    async destroy() {
      await system.close().catch(() => undefined);
      const cleaner = testRedis(config);
      await deleteByPrefix(cleaner, config.redisKeyPrefix);
      cleaner.disconnect();
      await dropDatabase(dbName);
    },
  });
}

/**
 * Another process's system on the same database and Redis prefix as `base` (as a second server
 * would be): its own owner id, pools and caches. Closing it leaves the shared database alone.
 */
export async function joinTestSystem(base: TestSystem, options: SystemOptions = {}): Promise<TestSystem> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const system = await buildSystem(base.config, { logger: createLogger(base.config.logLevel, sink), ...options });
  await system.start();
  return Object.assign(system, {
    dbName: base.dbName,
    logLines,
    async destroy() {
      await system.close().catch(() => undefined);
    },
  });
}
