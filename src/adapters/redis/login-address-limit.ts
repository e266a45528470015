// Citizen login limits kept in Redis and shared by every API process: failed logins per source
// address across cards (a sliding window, login-address.lua), and the fleet-wide count of failures
// per minute behind the spraying alarm.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadLua } from './client.js';
import type { RedisKeys } from './keys.js';
import type { AddressLimiter, AddressReservation, LoginFailureLog } from '../../app/citizen.js';

const reserveLua = loadLua('login-address');
/** Minute buckets of the fleet-wide failure count outlive the window by this much. */
const bucketSlackMs = 5 * 60_000;

export class RedisAddressLimiter implements AddressLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly attemptsMax: number,
    private readonly windowMs: number,
  ) {}

  async reserve(address: string, now: Date): Promise<AddressReservation> {
    const key = this.keys.loginAddress(address);
    const member = `${now.getTime()}:${randomBytes(6).toString('hex')}`;
    const [ok, retryAfterMs] = (await this.redis.eval(reserveLua, 1, key, now.getTime(), this.windowMs, this.attemptsMax, member)) as [number, number];
    if (ok !== 1) return { kind: 'limited', retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    return {
      kind: 'reserved',
      release: async () => {
        await this.redis.zrem(key, member);
      },
    };
  }
}

export class RedisLoginFailureLog implements LoginFailureLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly windowMs: number,
  ) {}

  async record(now: Date): Promise<void> {
    const key = this.keys.loginFailureMinute(Math.floor(now.getTime() / 60_000));
    await this.redis.multi().incr(key).pexpire(key, this.windowMs + bucketSlackMs).exec();
  }

  /** Failures across all addresses and processes in the last window (whole minutes). */
  async inWindow(now: Date): Promise<number> {
    const minute = Math.floor(now.getTime() / 60_000);
    const minutes = Math.ceil(this.windowMs / 60_000);
    const values = await this.redis.mget(Array.from({ length: minutes }, (_, i) => this.keys.loginFailureMinute(minute - i)));
    return values.reduce((sum, v) => sum + (v ? Number(v) : 0), 0);
  }
}
