// Recovery of commands applied in Redis whose commit was never confirmed: at startup before the
// server turns ready, and periodically while it serves. A process recovers only the pending marks
// of owners that are dead (src/app/ownership.ts) — never those of a live process — and, once, the
// single pending set of older versions. Each such card's cached state is dropped with the
// command's record (abandon.lua), so an unconfirmed approval is neither kept nor replayed; the
// card reloads from PostgreSQL only once no other command of it is in flight (load-card.lua).
import type { CardRedis } from '../adapters/redis/client.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import type { CardGate } from '../adapters/redis/card-gate.js';
import type { Logger } from '../platform/logger.js';
import { ownerIsDead } from './ownership.js';

export const recoveryBatchMax = 1000;
/** How long one process holds the right to recover a dead owner (another takes over after). */
export const recoveryClaimMs = 60_000;

export interface RecoveryReport {
  redisWasEmpty: boolean;
  pendingCommands: number;
  cardsInvalidated: number;
  ownersRecovered: number;
}

function parseMember(member: string): { cardNo: string; opKind: string; opId: string } {
  const space = member.indexOf(' ');
  const op = member.slice(space + 1);
  const colon = op.indexOf(':');
  return { cardNo: member.slice(0, space), opKind: op.slice(0, colon), opId: op.slice(colon + 1) };
}

/** Drops every mark of one pending set; returns the members handled and the cards dropped. */
async function drain(redis: CardRedis, setKey: string, drop: (member: string) => Promise<boolean>, cards: Set<string>): Promise<number> {
  let handled = 0;
  while (true) {
    const members = await redis.srandmember(setKey, recoveryBatchMax);
    if (!members || members.length === 0) return handled;
    const dropped = await Promise.all(members.map(drop));
    members.forEach((m, i) => {
      if (dropped[i]) cards.add(parseMember(m).cardNo);
    });
    handled += members.length;
  }
}

/** The pending sets of an owner that hold anything (one SCARD per set, auto-pipelined). */
export async function nonEmptyPendingSets(redis: CardRedis, keys: RedisKeys, owner: string): Promise<string[]> {
  const sets = keys.pendingSetsOf(owner);
  const sizes = await Promise.all(sets.map((key) => redis.scard(key)));
  return sets.filter((_, i) => sizes[i]! > 0);
}

/** Recovers what dead owners left pending (and the legacy set); safe while other processes serve. */
export async function recoverDeadOwners(redis: CardRedis, keys: RedisKeys, gate: CardGate, log: Logger): Promise<Omit<RecoveryReport, 'redisWasEmpty'>> {
  const cards = new Set<string>();
  let pendingCommands = 0;
  let ownersRecovered = 0;
  if (!keys.cluster) {
    const legacy = keys.legacyPending();
    pendingCommands += await drain(
      redis,
      legacy,
      async (member) => {
        const call = parseMember(member);
        await redis.del(keys.cardState(call.cardNo), keys.cardFare(call.cardNo), keys.cardOp(call.cardNo, call.opKind, call.opId));
        await redis.srem(legacy, member);
        return true;
      },
      cards,
    );
  }
  for (const owner of await redis.smembers(keys.owners())) {
    if (owner === keys.owner || !(await ownerIsDead(redis, keys, owner))) continue;
    const claimed = await redis.set(keys.ownerRecovery(owner), keys.owner, 'PX', recoveryClaimMs, 'NX');
    if (claimed !== 'OK') continue;
    for (const setKey of await nonEmptyPendingSets(redis, keys, owner)) {
      pendingCommands += await drain(redis, setKey, (member) => {
        const m = parseMember(member);
        return gate.abandonMember(m.cardNo, m.opKind, m.opId, owner, true);
      }, cards);
    }
    await redis.srem(keys.owners(), owner);
    // Two keys of two slots on a cluster: two commands.
    await redis.del(keys.ownerLease(owner));
    await redis.del(keys.ownerRecovery(owner));
    ownersRecovered++;
  }
  const report = { pendingCommands, cardsInvalidated: cards.size, ownersRecovered };
  if (pendingCommands > 0 || ownersRecovered > 0) log.info(report, 'recovered commands of dead owners');
  return report;
}

export async function recover(redis: CardRedis, keys: RedisKeys, gate: CardGate, log: Logger): Promise<RecoveryReport> {
  const redisWasEmpty = (await redis.exists(keys.epoch())) === 0;
  const done = await recoverDeadOwners(redis, keys, gate, log);
  await redis.set(keys.epoch(), new Date().toISOString());
  const report = { redisWasEmpty, ...done };
  log.info(report, 'startup recovery done');
  return report;
}
