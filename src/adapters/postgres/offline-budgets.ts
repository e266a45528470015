// The offline budgets' change log (migrations/0014b_offline_budgets.sql): the nightly sync that
// writes a new version for every card whose budget changed, and the delta readers ask for.
import { withTransaction, type Pool } from './db.js';
import { offlineDebtLookbackDays, offlineRidesMax } from '../../domain/fare/index.js';

export interface BudgetChange {
  version: bigint;
  cardNo: string;
  rides: number;
}

export const budgetPageMax = 10_000;

// offlineRides (src/domain/fare/offline-budget.ts) set-based: 0 for a card not active or not above
// zero; else min(balance / rideMax, ridesMax), halved for a card listed for debt lately. Only a
// change is written; a card never given rides has none written (its budget is 0).
const syncSql = `
WITH computed AS (
  SELECT c.card_no,
         CASE WHEN c.status <> 'active' OR coalesce(a.balance, 0) <= 0 THEN 0
              ELSE least(a.balance / $1::bigint, $2::bigint)::int
                   / CASE WHEN EXISTS (SELECT 1 FROM hotlist_changes h WHERE h.card_no = c.card_no AND h.reason = 'debt' AND h.listed
                                        AND h.changed_at > $4::timestamptz - make_interval(days => $3::int)) THEN 2 ELSE 1 END
         END AS rides
    FROM cards c LEFT JOIN accounts a ON a.kind = 'purse' AND a.owner_id = c.card_no
), latest AS (
  SELECT DISTINCT ON (card_no) card_no, rides FROM offline_budgets ORDER BY card_no, version DESC
)
INSERT INTO offline_budgets (card_no, rides)
SELECT k.card_no, k.rides FROM computed k LEFT JOIN latest l USING (card_no)
 WHERE k.rides <> coalesce(l.rides, 0)
 ORDER BY k.card_no`;

const exposureSql = `
SELECT count(*) FILTER (WHERE rides > 0)::int AS cards, coalesce(sum(rides), 0)::bigint AS rides, coalesce(max(version), 0)::bigint AS version
  FROM (SELECT DISTINCT ON (card_no) card_no, rides, version FROM offline_budgets ORDER BY card_no, version DESC) latest`;

export class OfflineBudgets {
  constructor(private readonly pool: Pool) {}

  /** Writes the changed budgets; answers the published totals (cards with rides, their rides). */
  async sync(rideMaxFen: bigint, now: Date): Promise<{ changed: number; cards: number; rides: number; version: bigint }> {
    return withTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('jobs:offline-budgets'))`);
      const changed = rideMaxFen > 0n ? await client.query(syncSql, [rideMaxFen.toString(), offlineRidesMax, offlineDebtLookbackDays, now.toISOString()]) : { rowCount: 0 };
      const t = await client.query<{ cards: number; rides: string; version: string }>(exposureSql);
      return { changed: changed.rowCount ?? 0, cards: t.rows[0]!.cards, rides: Number(t.rows[0]!.rides), version: BigInt(t.rows[0]!.version) };
    });
  }

  /** Changes after `since`, one per card (its latest), and the version to ask from next. */
  async since(since: bigint, limit = budgetPageMax): Promise<{ version: bigint; changes: BudgetChange[]; more: boolean }> {
    const r = await this.pool.query<{ version: string; card_no: string; rides: number }>(
      `SELECT version::text, card_no, rides FROM offline_budgets WHERE version > $1 ORDER BY version LIMIT $2`,
      [since.toString(), limit + 1],
    );
    const more = r.rows.length > limit;
    const rows = r.rows.slice(0, limit);
    const latest = new Map<string, BudgetChange>();
    for (const row of rows) latest.set(row.card_no, { version: BigInt(row.version), cardNo: row.card_no, rides: row.rides });
    const top = rows.length > 0 ? BigInt(rows[rows.length - 1]!.version) : since;
    return { version: top, changes: [...latest.values()], more };
  }
}
