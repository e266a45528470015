// A whole system for one test file: its own database cloned from the migrated template, its own
// Redis key prefix, the real PostgreSQL and Redis beneath, and helpers to register parties.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { buildSystem, type System, type SystemOptions } from '../../src/system.js';
import { createLogger } from '../../src/platform/logger.js';
import { adminUrl, templateDbName, urlFor } from './db-names.js';

export const adminToken = 'test-admin-token-0123';

export interface TestSystem extends System {
  dbName: string;
  logLines: string[];
  destroy(): Promise<void>;
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

export function testConfig(dbName: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: urlFor(dbName),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REDIS_KEY_PREFIX: `t:${dbName}:`,
    ADMIN_TOKEN: adminToken,
    SEED: '0',
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    ISO_PORT: '0',
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
  const system = (await buildSystem(config, { logger: createLogger(config.logLevel, sink), ...options })) as TestSystem;
  await system.start();
  system.dbName = dbName;
  system.logLines = logLines;
  system.destroy = async () => {
    await system.close().catch(() => undefined);
    const cleaner = new (await import('ioredis')).Redis(config.redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${config.redisKeyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await cleaner.del(...keys);
    } while (cursor !== '0');
    cleaner.disconnect();
    await dropDatabase(dbName);
  };
  return system;
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
  const system = (await buildSystem(base.config, { logger: createLogger(base.config.logLevel, sink), ...options })) as TestSystem;
  await system.start();
  system.dbName = base.dbName;
  system.logLines = logLines;
  system.destroy = async () => {
    await system.close().catch(() => undefined);
  };
  return system;
}
