// An outage of Redis or PostgreSQL is told from a bug: outages answer 503/91, bugs 500/96.
import { describe, expect, it } from 'vitest';
import { isDependencyDown } from '../../src/platform/dependency-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDependencyDown', () => {
  it('recognises connection failures of ioredis and pg', () => {
    expect(isDependencyDown(withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'))).toBe(true);
    expect(isDependencyDown(new Error('Connection is closed.'))).toBe(true);
    expect(isDependencyDown(Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(isDependencyDown(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isDependencyDown(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDependencyDown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyDown(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isDependencyDown(new Error('ledger write failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }))).toBe(true);
    expect(isDependencyDown(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'all failed'))).toBe(true);
  });

  it('leaves bugs and data errors alone', () => {
    expect(isDependencyDown(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isDependencyDown(withCode('value "9999999999999999999" is out of range for type bigint', '22003'))).toBe(false);
    expect(isDependencyDown(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isDependencyDown('ECONNREFUSED')).toBe(false);
    expect(isDependencyDown(null)).toBe(false);
  });
});
