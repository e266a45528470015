// The hotlist change log: lost, blocked and indebted cards for readers, as versioned deltas.
import type { Pool } from './db.js';

export type HotlistReason = 'lost' | 'blocked' | 'debt' | 'cleared';

export interface HotlistChange {
  version: bigint;
  cardNo: string;
  listed: boolean;
  reason: HotlistReason;
}

export const hotlistPageMax = 10_000;

export class Hotlist {
  constructor(private readonly pool: Pool) {}

  /** Records a change unless the card's latest entry already says the same. */
  async record(cardNo: string, listed: boolean, reason: HotlistReason, at?: Date): Promise<void> {
    // `at`: the injected clock's time of the report (offline taps are judged against it).
    await this.pool.query(
      `INSERT INTO hotlist_changes (card_no, listed, reason, changed_at)
       SELECT $1, $2, $3, coalesce($4::timestamptz, now())
        WHERE NOT EXISTS (SELECT 1 FROM (SELECT listed, reason FROM hotlist_changes WHERE card_no = $1 ORDER BY version DESC LIMIT 1) last
                           WHERE last.listed = $2 AND last.reason = $3)`,
      [cardNo, listed, reason, at ?? null],
    );
  }

  /** Changes after `since`, at most one per card (its latest), and the version to ask from next. */
  async since(since: bigint, limit = hotlistPageMax): Promise<{ version: bigint; changes: HotlistChange[]; more: boolean }> {
    const r = await this.pool.query<{ version: bigint; card_no: string; listed: boolean; reason: HotlistReason }>(
      `SELECT version, card_no, listed, reason FROM hotlist_changes WHERE version > $1 ORDER BY version LIMIT $2`,
      [since.toString(), limit + 1],
    );
    const more = r.rows.length > limit;
    const rows = r.rows.slice(0, limit);
    const latest = new Map<string, HotlistChange>();
    for (const row of rows) latest.set(row.card_no, { version: row.version, cardNo: row.card_no, listed: row.listed, reason: row.reason });
    const top = rows.length > 0 ? rows[rows.length - 1]!.version : since;
    const current = more ? top : await this.currentVersion();
    return { version: current > top ? top : current, changes: [...latest.values()], more };
  }

  async currentVersion(): Promise<bigint> {
    const r = await this.pool.query<{ v: bigint | null }>(`SELECT max(version) AS v FROM hotlist_changes`);
    return r.rows[0]!.v ?? 0n;
  }
}
