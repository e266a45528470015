import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

describe('configuration', () => {
  it('has working defaults for development', () => {
    const c = loadConfig({});
    expect(c.httpPort).toBe(8080);
    expect(c.isoPort).toBe(5800);
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/citizencard');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379/0');
    expect(c.adminToken).toBe('dev-admin-token');
    expect(c.seed).toBe(true);
    expect(c.reportsDir).toBe('./var/reports');
  });

  it('refuses the default admin token in production, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN/);
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ HTTP_PORT: 'eighty' })).toThrow(/HTTP_PORT/);
    expect(() => loadConfig({ HTTP_PORT: '70000' })).toThrow(/HTTP_PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ SEED: 'yes' })).toThrow(/SEED/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ MASTER_KEY: 'abc' })).toThrow(/MASTER_KEY/);
    expect(() => loadConfig({ ROLE: 'everything' })).toThrow(/ROLE/);
  });

  it('accepts a production setup with real secrets', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a-long-production-secret',
      MASTER_KEY: 'ab'.repeat(32),
      JWT_SECRET: 'j'.repeat(40),
      SEED: '0',
    });
    expect(c.seed).toBe(false);
  });
});
