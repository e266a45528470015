// Startup recovery: makes Redis agree with PostgreSQL before the server turns ready. Commands that
// were applied in Redis but whose commit was never confirmed are listed in the pending set; each
// such card's cached state is dropped (it reloads from the ledger on next use) with the command's
// idempotency record, so an unconfirmed approval is neither kept in the cache nor replayed.
import type { CardRedis } from '../adapters/redis/client.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import type { Logger } from '../platform/logger.js';

export const recoveryBatchMax = 1000;

export interface RecoveryReport {
  redisWasEmpty: boolean;
  pendingCommands: number;
  cardsInvalidated: number;
}

export async function recover(redis: CardRedis, keys: RedisKeys, log: Logger): Promise<RecoveryReport> {
  const redisWasEmpty = (await redis.exists(keys.epoch())) === 0;
  let pendingCommands = 0;
  const cards = new Set<string>();
  while (true) {
    const members = await redis.srandmember(keys.pending(), recoveryBatchMax);
    if (!members || members.length === 0) break;
    const pipeline = redis.pipeline();
    for (const member of members) {
      const space = member.indexOf(' ');
      const cardNo = member.slice(0, space);
      const op = member.slice(space + 1);
      const colon = op.indexOf(':');
      cards.add(cardNo);
      pipeline.del(keys.cardState(cardNo), keys.cardFare(cardNo), keys.cardOp(cardNo, op.slice(0, colon), op.slice(colon + 1)));
      pipeline.srem(keys.pending(), member);
    }
    await pipeline.exec();
    pendingCommands += members.length;
  }
  await redis.set(keys.epoch(), new Date().toISOString());
  const report = { redisWasEmpty, pendingCommands, cardsInvalidated: cards.size };
  log.info(report, 'startup recovery done');
  return report;
}
