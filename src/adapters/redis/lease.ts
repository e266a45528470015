// A lease in Redis (SET NX PX with a random token): one holder at a time across every process
// sharing the Redis. Used where a computation reads shared state that its own commit changes (a
// citizen's medical year-to-date), so that an in-process mutex is not enough.
import { randomBytes } from 'node:crypto';
import { loadLua, type CardRedis } from './client.js';

export class LeaseBusyError extends Error {
  override name = 'LeaseBusyError';
}

const leasePollMs = 5;

export class RedisLease {
  private readonly releaseCmd: (key: string, token: string) => Promise<number>;

  constructor(
    private readonly redis: CardRedis,
    private readonly leaseMs: number,
    private readonly waitMsMax: number,
  ) {
    const commands = redis as unknown as Record<string, ((key: string, token: string) => Promise<number>) | undefined>;
    if (typeof commands.cc_lease_release !== 'function') redis.defineCommand('cc_lease_release', { numberOfKeys: 1, lua: loadLua('lease-release') });
    this.releaseCmd = (key, token) => commands.cc_lease_release!.call(this.redis, key, token);
  }

  /** Runs fn holding the lease `key`; LeaseBusyError when it could not be had within waitMsMax. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.waitMsMax;
    while ((await this.redis.set(key, token, 'PX', this.leaseMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new LeaseBusyError(`lease ${key} busy`);
      await new Promise((resolve) => setTimeout(resolve, leasePollMs));
    }
    try {
      return await fn();
    } finally {
      await this.releaseCmd(key, token).catch(() => undefined); // it ends by itself at leaseMs
    }
  }
}
