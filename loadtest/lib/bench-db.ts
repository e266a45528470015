// The bench's data: its own database (created, migrated and seeded with cards), its own Redis key
// prefix (flushed between servers, since the naive baseline changes PostgreSQL behind the cache),
// and the card cache warmed in bulk through the core's own gate code.
import pg from 'pg';
import { ensureDatabase, migrate } from '../../src/adapters/postgres/migrate.js';
import { createRedis } from '../../src/adapters/redis/client.js';
import { RedisKeys } from '../../src/adapters/redis/keys.js';
import { CardGate } from '../../src/adapters/redis/card-gate.js';
import type { CardSnapshot } from '../../src/app/ports.js';
import { seedCards, type SeedReport } from '../../scripts/seed-cards.js';

export const warmChunkMax = 20_000;
export const flushScanCount = 2_000;

export async function prepareDatabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
}

export async function seed(databaseUrl: string, masterKeyHex: string, cards: number, firstSerial: bigint, log: (m: string) => void): Promise<SeedReport> {
  return seedCards({ databaseUrl, masterKeyHex, cards, firstSerial, log });
}

/**
 * VACUUM of the accounts table before each phase. Every batch rewrites the hot rows (the merchant's
 * payable, the clearing accounts) and each purse it touches; with autovacuum off (as on the
 * shared test cluster) the dead versions pile up and every lookup of a hot row walks them.
 */
export async function vacuumAccounts(databaseUrl: string): Promise<{ ms: number; deadBefore: number; autovacuum: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  try {
    const autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum;
    const dead = await client.query<{ n: string }>(`SELECT n_dead_tup::text AS n FROM pg_stat_user_tables WHERE relname = 'accounts'`);
    await client.query('VACUUM (ANALYZE) accounts');
    await client.query('ANALYZE transfers');
    return { ms: Date.now() - started, deadBefore: Number(dead.rows[0]?.n ?? 0), autovacuum };
  } finally {
    await client.end();
  }
}

/** A bench prefix must be unmistakably the runner's own: `lt:` followed by letters, digits, `_`. */
export function assertBenchPrefix(prefix: string): void {
  if (!/^lt:[A-Za-z0-9_]+:$/.test(prefix)) throw new Error(`refusing to flush Redis prefix "${prefix}": the runner only flushes lt:<name>: prefixes`);
}

/** Deletes every key under the runner's prefix (SCAN + UNLINK, never FLUSHDB: Redis is shared). */
export async function flushPrefix(redisUrl: string, prefix: string): Promise<number> {
  assertBenchPrefix(prefix);
  const redis = createRedis(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', flushScanCount);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * Installs the cards' state in Redis as the core would on a cache miss (same snapshot fields, the
 * core's load-card script), in bulk: one SQL query and one pipelined burst per chunk.
 */
export async function warmCards(databaseUrl: string, redisUrl: string, prefix: string, cardNos: string[], businessDate: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const redis = createRedis(redisUrl);
  const gate = new CardGate(redis, new RedisKeys(prefix));
  let installed = 0;
  try {
    for (let from = 0; from < cardNos.length; from += warmChunkMax) {
      const chunk = cardNos.slice(from, from + warmChunkMax);
      const rows = await pool.query<{
        card_no: string;
        status: CardSnapshot['status'];
        card_type: CardSnapshot['cardType'];
        expires_on: string;
        citizen_id: string;
        pin_failures: number;
        purse: string | null;
        medical: string | null;
        spent: string | null;
      }>(
        `SELECT c.card_no, c.status, c.card_type, to_char(c.expires_on, 'YYYY-MM-DD') AS expires_on, c.citizen_id::text, c.pin_failures,
                p.balance::text AS purse, m.balance::text AS medical, s.spent::text AS spent
           FROM cards c
           LEFT JOIN accounts p ON p.kind = 'purse' AND p.owner_id = c.card_no
           LEFT JOIN accounts m ON m.kind = 'medical' AND m.owner_id = c.card_no
           LEFT JOIN (SELECT t.card_no, sum(CASE t.op_kind WHEN 'payment' THEN t.amount ELSE -t.amount END) AS spent
                        FROM transfers t
                       WHERE t.card_no = ANY($1) AND t.business_date = $2 AND t.leg = 0
                         AND t.op_kind IN ('payment', 'payment-reversal')
                       GROUP BY t.card_no) s ON s.card_no = c.card_no
          WHERE c.card_no = ANY($1)`,
        [chunk, businessDate],
      );
      const results = await Promise.all(
        rows.rows.map((r) => {
          const spent = BigInt(r.spent ?? '0');
          return gate.install({
            cardNo: r.card_no,
            status: r.status,
            cardType: r.card_type,
            expiresOn: r.expires_on,
            citizenId: BigInt(r.citizen_id),
            purseFen: BigInt(r.purse ?? '0'),
            medicalFen: BigInt(r.medical ?? '0'),
            paymentDay: businessDate,
            paymentSpentFen: spent > 0n ? spent : 0n,
            pinFailures: r.pin_failures,
          });
        }),
      );
      installed += results.filter(Boolean).length;
    }
  } finally {
    redis.disconnect();
    await pool.end();
  }
  return installed;
}
