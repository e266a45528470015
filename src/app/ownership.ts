// Ownership of pending commands across processes: each process is an owner with a lease in Redis,
// renewed by a heartbeat. Its pending marks are its own; another process recovers them only once
// the owner is dead (lease expired, or — on the same host — its pid is gone). A process whose
// lease lapsed may have been recovered behind its back, so it must stop serving money at once.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CardRedis } from '../adapters/redis/client.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import type { Logger } from '../platform/logger.js';

/** A new owner id per process start: `<host>.<pid>.<random>` (no braces: it goes into keys). */
export function newOwnerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${host}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

interface LeaseValue {
  host: string;
  pid: number;
  since: string;
}

export class OwnerLease {
  private timer: NodeJS.Timeout | null = null;
  private lost = false;

  constructor(
    private readonly redis: CardRedis,
    private readonly keys: RedisKeys,
    private readonly leaseMs: number,
    private readonly log: Logger,
    /** Called when the lease was found lapsed: the process must stop serving (main.ts exits). */
    private readonly onLost: () => void,
  ) {}

  get owner(): string {
    return this.keys.owner;
  }

  async register(now: Date): Promise<void> {
    const value: LeaseValue = { host: hostname(), pid: process.pid, since: now.toISOString() };
    await this.redis.sadd(this.keys.owners(), this.owner);
    const taken = await this.redis.set(this.keys.ownerLease(this.owner), JSON.stringify(value), 'PX', this.leaseMs, 'NX');
    if (taken !== 'OK') throw new Error(`owner id ${this.owner} is already leased`);
    // Renewed three times per lease: a renewal may be missed twice (a long GC pause) before it lapses.
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    try {
      const renewed = await this.redis.pexpire(this.keys.ownerLease(this.owner), this.leaseMs);
      if (renewed === 0) {
        this.lost = true;
        this.log.error({ owner: this.owner }, 'owner lease lapsed: pending commands may have been recovered by another process');
        this.onLost();
      }
    } catch (error) {
      this.log.warn({ err: error }, 'owner lease renewal failed');
    }
  }

  /** After a drain: nothing of this owner is pending, so it leaves without anything to recover. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.lost) return;
    const sizes = await Promise.all(this.keys.pendingSetsOf(this.owner).map((key) => this.redis.scard(key)));
    const left = sizes.reduce((a, b) => a + b, 0);
    if (left > 0) {
      this.log.warn({ owner: this.owner, left }, 'stopping with pending commands: they are recovered once the lease expires');
      return;
    }
    await this.redis.del(this.keys.ownerLease(this.owner));
    await this.redis.srem(this.keys.owners(), this.owner);
  }
}

/** Whether a registered owner is dead: no lease, or a lease of a process on this host that is gone. */
export async function ownerIsDead(redis: CardRedis, keys: RedisKeys, owner: string): Promise<boolean> {
  const raw = await redis.get(keys.ownerLease(owner));
  if (raw === null) return true;
  let lease: LeaseValue;
  try {
    lease = JSON.parse(raw) as LeaseValue;
  } catch {
    return false;
  }
  if (lease.host !== hostname() || lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return false;
  } catch (error) {
    // EPERM: a live process of another user; only ESRCH says it is gone.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
