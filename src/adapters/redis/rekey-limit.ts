// Per-terminal rate limit of ISO 8583 key management (sign-on, key change): counted in Redis, so
// every gateway process shares one count per terminal.
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

export interface RekeyLimits {
  /** Key changes (sign-on 001 + key change 101) one terminal may make per window; beyond → 65. */
  rekeysPerTerminalMax: number;
  /** The window, fixed, starting at the terminal's first key change in it. */
  rekeyWindowSeconds: number;
}

export const defaultRekeyLimits: RekeyLimits = { rekeysPerTerminalMax: 5, rekeyWindowSeconds: 60 };

export class RekeyLimit {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly limits: RekeyLimits = defaultRekeyLimits,
  ) {}

  /** Counts one key change of the terminal; false when it is over its maximum in the current window. */
  async take(terminalId: string): Promise<boolean> {
    const key = this.keys.terminalRekeys(terminalId);
    // INCR and EXPIRE NX in one transaction: the window starts with its first count and always ends.
    const replies = await this.redis.multi().incr(key).expire(key, this.limits.rekeyWindowSeconds, 'NX').exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('rekey count: transaction aborted');
    return Number(replies[0]![1]) <= this.limits.rekeysPerTerminalMax;
  }
}
