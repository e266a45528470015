// PostgreSQL side of the hotlist job: debt brought into the versioned change log of
// src/adapters/postgres/hotlist.ts (set-based, one statement each way), and the list and delta read
// from one snapshot.
import type { Pool } from '../postgres/db.js';
import { withTransaction } from '../postgres/db.js';
import { withSnapshot } from './pg-stream.js';
import type { HotlistEntry, HotlistSource, HotlistView } from '../../app/jobs/hotlist.js';

// A purse below zero whose card is not listed (no change yet, or the latest one unlists it) gets a
// 'debt' listing. A lost or blocked card in debt stays listed for its own reason.
const listDebtSql = `
INSERT INTO hotlist_changes (card_no, listed, reason)
SELECT a.owner_id, true, 'debt'
  FROM accounts a
  JOIN cards c ON c.card_no = a.owner_id
  LEFT JOIN LATERAL (SELECT h.listed FROM hotlist_changes h WHERE h.card_no = a.owner_id ORDER BY h.version DESC LIMIT 1) last ON true
 WHERE a.kind = 'purse' AND a.balance < 0 AND coalesce(last.listed, false) = false
 ORDER BY a.owner_id`;

// A card whose latest change lists it for debt and whose purse is back at zero or above is cleared.
const clearDebtSql = `
INSERT INTO hotlist_changes (card_no, listed, reason)
SELECT l.card_no, false, 'cleared'
  FROM (SELECT DISTINCT ON (card_no) card_no, listed, reason FROM hotlist_changes ORDER BY card_no, version DESC) l
  LEFT JOIN accounts a ON a.kind = 'purse' AND a.owner_id = l.card_no
 WHERE l.listed AND l.reason = 'debt' AND coalesce(a.balance, 0) >= 0
 ORDER BY l.card_no`;

const listedSql = `
SELECT card_no, listed, reason, version FROM (
  SELECT DISTINCT ON (card_no) card_no, listed, reason, version FROM hotlist_changes
   WHERE version <= $1 ORDER BY card_no, version DESC) latest
 WHERE listed ORDER BY card_no COLLATE "C"`;

const changesSql = `
SELECT * FROM (
  SELECT DISTINCT ON (card_no) card_no, listed, reason, version FROM hotlist_changes
   WHERE version > $1 AND version <= $2
   ORDER BY card_no, version DESC) latest
 ORDER BY card_no COLLATE "C"`;

type Row = { card_no: string; listed: boolean; reason: string; version: bigint };
const entry = (r: Row): HotlistEntry => ({ cardNo: r.card_no, listed: r.listed, reason: r.reason, version: r.version });

export class PgHotlistSource implements HotlistSource {
  constructor(private readonly pool: Pool) {}

  async syncDebt(): Promise<{ listedForDebt: number; clearedOfDebt: number }> {
    return withTransaction(this.pool, async (client) => {
      // One sync at a time: two concurrent runs would both see a card unlisted and list it twice.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('jobs:hotlist-sync'))`);
      const listed = await client.query(listDebtSql);
      const cleared = await client.query(clearDebtSql);
      return { listedForDebt: listed.rowCount ?? 0, clearedOfDebt: cleared.rowCount ?? 0 };
    });
  }

  view<T>(work: (view: HotlistView) => Promise<T>): Promise<T> {
    return withSnapshot(this.pool, (snapshot) =>
      work({
        async version() {
          const rows = await snapshot.query<{ v: bigint | null }>(`SELECT max(version) AS v FROM hotlist_changes`);
          return rows[0]?.v ?? 0n;
        },
        async *listed(version: bigint) {
          for await (const r of snapshot.stream<Row>(listedSql, [version.toString()])) yield entry(r);
        },
        async *changes(since: bigint, upTo: bigint) {
          for await (const r of snapshot.stream<Row>(changesSql, [since.toString(), upTo.toString()])) yield entry(r);
        },
      }),
    );
  }

  async previousFileVersion(businessDate: string): Promise<bigint | null> {
    const r = await this.pool.query<{ v: string | null }>(
      // The earliest version any file of that date was written at: a rerun of the earlier date
      // writes a later version, but validators may still hold the first one.
      `SELECT min((result->>'version')::bigint)::text AS v FROM job_runs
        WHERE name = 'hotlist' AND status = 'completed' AND result ? 'version'
          AND business_date = (SELECT max(business_date) FROM job_runs WHERE name = 'hotlist' AND status = 'completed' AND business_date < $1 AND result ? 'version')`,
      [businessDate],
    );
    const v = r.rows[0]?.v;
    return v === undefined || v === null ? null : BigInt(v);
  }
}
