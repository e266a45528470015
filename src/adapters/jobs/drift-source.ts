// Redis and PostgreSQL sides of the redis-drift job: cached card states found by SCAN over the
// card keys of this prefix, their ledger balances, and the in-flight check against the pending set.
import type { Pool } from '../postgres/db.js';
import { scanTargets, type CardRedis } from '../redis/client.js';
import type { RedisKeys } from '../redis/keys.js';
import type { CardGate } from '../redis/card-gate.js';
import { cardsInFlight } from '../redis/in-flight.js';
import type { CachedCard, DriftSource, LedgerCard } from '../../app/jobs/redis-drift.js';

/** Keys asked of Redis per SCAN step (a hint; a page holds the card states among them). */
export const driftScanCount = 1000;

export class RedisDriftSource implements DriftSource {
  private readonly stateKey: RegExp;

  constructor(
    private readonly redis: CardRedis,
    private readonly keys: RedisKeys,
    private readonly pool: Pool,
    private readonly gate: CardGate,
  ) {
    // keys.cardState(cardNo) = <prefix>{card:<cardNo>}:s — the other card keys (op records, fare state) end otherwise.
    this.stateKey = /\{card:(\d{16})\}:s$/;
  }

  async *cachedCards(): AsyncGenerator<CachedCard[]> {
    // SCAN is per server: every master of a cluster in turn.
    for (const node of scanTargets(this.redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', this.keys.cardPattern(), 'COUNT', driftScanCount);
        cursor = next;
        const cardNos = [...new Set(found.map((k) => this.stateKey.exec(k)?.[1]).filter((c): c is string => c !== undefined))];
        if (cardNos.length > 0) yield [...(await this.reread(cardNos)).values()];
      } while (cursor !== '0');
    }
  }

  async reread(cardNos: string[]): Promise<Map<string, CachedCard>> {
    // One command per card, auto-pipelined (a cluster spreads the cards over its nodes).
    const replies = await Promise.all(cardNos.map((cardNo) => this.redis.hmget(this.keys.cardState(cardNo), 'pu', 'me', 'st').then((fields) => [null, fields] as [Error | null, unknown], (error: Error) => [error, null] as [Error | null, unknown])));
    const out = new Map<string, CachedCard>();
    cardNos.forEach((cardNo, i) => {
      const [error, fields] = replies[i] ?? [null, null];
      if (error) throw error;
      const [pu, me, st] = (fields as (string | null)[] | null) ?? [null, null, null];
      // A key that vanished between SCAN and HMGET (evicted, forgotten) is no longer cached.
      if (pu === null && me === null && st === null) return;
      out.set(cardNo, { cardNo, purse: pu ?? null, medical: me ?? null });
    });
    return out;
  }

  async ledger(cardNos: string[]): Promise<Map<string, LedgerCard>> {
    const r = await this.pool.query<{ owner_id: string; kind: string; balance: bigint }>(
      `SELECT owner_id, kind, balance FROM accounts WHERE kind IN ('purse', 'medical') AND owner_id = ANY($1::text[])`,
      [cardNos],
    );
    const out = new Map<string, LedgerCard>();
    for (const row of r.rows) {
      const card = out.get(row.owner_id) ?? { purseFen: 0n, medicalFen: 0n };
      if (row.kind === 'purse') card.purseFen = row.balance;
      else card.medicalFen = row.balance;
      out.set(row.owner_id, card);
    }
    return out;
  }

  async inFlight(cardNos: string[]): Promise<Set<string>> {
    return cardsInFlight(this.redis, this.keys, cardNos);
  }

  async forget(cardNo: string): Promise<void> {
    await this.gate.forget(cardNo);
  }
}
