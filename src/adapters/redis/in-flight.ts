// Which cards have a command applied in Redis whose commit is not yet confirmed: an entry in the
// card's in-flight hash, or a mark in any registered owner's pending set (also the legacy set).
// For the nightly drift check and the console, not the hot path.
import type { CardRedis } from './client.js';
import type { RedisKeys } from './keys.js';

export async function cardsInFlight(redis: CardRedis, keys: RedisKeys, cardNos: string[]): Promise<Set<string>> {
  const wanted = new Set(cardNos);
  const busy = new Set<string>();
  const entries = await Promise.all(cardNos.map((cardNo) => redis.hkeys(keys.cardInflight(cardNo))));
  cardNos.forEach((cardNo, i) => {
    if ((entries[i] ?? []).some((field) => field !== '#g')) busy.add(cardNo);
  });
  const owners = await redis.smembers(keys.owners());
  const sets = keys.cluster
    ? owners.flatMap((owner) => cardNos.map((cardNo) => keys.pending(cardNo, owner)))
    : [keys.legacyPending(), ...owners.map((owner) => keys.pending(undefined, owner))];
  for (const setKey of new Set(sets)) {
    let cursor = '0';
    do {
      const [next, members] = await redis.sscan(setKey, cursor, 'COUNT', 1000);
      cursor = next;
      for (const m of members) {
        const cardNo = m.slice(0, m.indexOf(' '));
        if (wanted.has(cardNo)) busy.add(cardNo);
      }
    } while (cursor !== '0');
  }
  return busy;
}
