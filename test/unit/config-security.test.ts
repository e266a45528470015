// NODE_ENV is compared case-insensitively: any spelling of production refuses the dev secrets.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

const secrets = {
  ADMIN_TOKEN: 'a-real-admin-token-0001',
  MASTER_KEY: 'ab'.repeat(32),
  JWT_SECRET: 'a-real-jwt-secret-of-at-least-32-chars',
};

describe('NODE_ENV and the development secrets', () => {
  for (const spelling of ['production', 'Production', 'PRODUCTION', ' production ', 'pRoDuCtIoN']) {
    it(`"${spelling}" refuses each development default, naming it`, () => {
      expect(() => loadConfig({ NODE_ENV: spelling })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: spelling, ...secrets, ADMIN_TOKEN: undefined })).toThrow(/ADMIN_TOKEN/);
      expect(() => loadConfig({ NODE_ENV: spelling, ...secrets, MASTER_KEY: undefined })).toThrow(/MASTER_KEY/);
      expect(() => loadConfig({ NODE_ENV: spelling, ...secrets, JWT_SECRET: undefined })).toThrow(/JWT_SECRET/);
      expect(loadConfig({ NODE_ENV: spelling, ...secrets }).nodeEnv).toBe('production');
    });
  }

  it('development keeps its defaults', () => {
    expect(loadConfig({ NODE_ENV: 'Development' }).adminToken).toBe('dev-admin-token');
  });
});
