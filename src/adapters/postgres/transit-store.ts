// PostgreSQL reads and writes of the transit area beside the taps themselves
// (migrations/0007_transit.sql): fare policies, closed days, what re-rating already booked,
// the journeys projection, and the hotlist's debt clearance.
import { withTransaction, type Pool } from './db.js';

export interface PolicyRow {
  version: string;
  effectiveFrom: string;
  source: 'json' | 'gtfs';
  body: unknown;
}

/** What re-rating and journey closing booked for one card on one day, per operator (fen, + = charged). */
export interface BookedAdjustments {
  byOperator: Map<string, bigint>;
  /** Journey ids already charged by a 'journey-close' command. */
  journeyCloses: Set<string>;
}

export interface JourneyRow {
  journeyId: string;
  cardNo: string;
  businessDate: string;
  entryStationId: string | null;
  entryAt: Date | null;
  exitStationId: string | null;
  exitAt: Date | null;
  status: 'open' | 'complete' | 'incomplete';
  fareFen: bigint;
  distanceM: number | null;
}

export const adjustmentOpKinds = ['fare-adjust', 'journey-close'] as const;

export class TransitStore {
  constructor(readonly pool: Pool) {}

  /** Stores a policy under its version unless that version is there: 'inserted', 'same' or 'different' (the stored one is kept). */
  async ensurePolicy(row: PolicyRow): Promise<'inserted' | 'same' | 'different'> {
    const r = await this.pool.query(
      `INSERT INTO fare_policies (version, effective_from, source, body) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING`,
      [row.version, row.effectiveFrom, row.source, JSON.stringify(row.body)],
    );
    if (r.rowCount === 1) return 'inserted';
    const same = await this.pool.query<{ same: boolean }>(
      `SELECT (effective_from = $2::date AND source = $3 AND body = $4::jsonb) AS same FROM fare_policies WHERE version = $1`,
      [row.version, row.effectiveFrom, row.source, JSON.stringify(row.body)],
    );
    return same.rows[0]?.same ? 'same' : 'different';
  }

  async policies(): Promise<PolicyRow[]> {
    const r = await this.pool.query<{ version: string; effective_from: string; source: 'json' | 'gtfs'; body: unknown }>(
      `SELECT version, effective_from::text AS effective_from, source, body FROM fare_policies ORDER BY effective_from, loaded_at`,
    );
    return r.rows.map((row) => ({ version: row.version, effectiveFrom: row.effective_from, source: row.source, body: row.body }));
  }

  async closeDay(businessDate: string): Promise<void> {
    await this.pool.query(`INSERT INTO transit_closed_days (business_date) VALUES ($1) ON CONFLICT DO NOTHING`, [businessDate]);
  }

  /**
   * Since when a card is listed lost or blocked: the first such listing after its last unlisting
   * (version and time of the report); null when it is not.
   */
  async statusListing(cardNo: string): Promise<{ version: bigint; changedAt: Date } | null> {
    const r = await this.pool.query<{ v: string | null; at: Date | null }>(
      `SELECT min(version)::text AS v, min(changed_at) AS at FROM hotlist_changes
        WHERE card_no = $1 AND listed AND reason IN ('lost', 'blocked')
          AND version > coalesce((SELECT max(version) FROM hotlist_changes WHERE card_no = $1 AND NOT listed), 0)`,
      [cardNo],
    );
    const row = r.rows[0];
    return row?.v && row.at ? { version: BigInt(row.v), changedAt: row.at } : null;
  }

  /** A posting landed on an earlier business date: the next clearing settles what it changed (docs/operations.md). */
  async markLateDay(businessDate: string): Promise<void> {
    await this.pool.query(`INSERT INTO late_postings (business_date) VALUES ($1) ON CONFLICT DO NOTHING`, [businessDate]);
  }

  async isClosedDay(businessDate: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM transit_closed_days WHERE business_date = $1`, [businessDate]);
    return (r.rowCount ?? 0) > 0;
  }

  /** The fare adjustments and journey closures booked for some cards on one day. */
  async booked(cardNos: readonly string[], businessDate: string): Promise<Map<string, BookedAdjustments>> {
    const out = new Map<string, BookedAdjustments>();
    if (cardNos.length === 0) return out;
    const r = await this.pool.query<{ card_no: string; op_kind: string; op_id: string; amount: bigint; debit_kind: string; debit_owner: string; credit_kind: string; credit_owner: string }>(
      `SELECT t.card_no, t.op_kind, t.op_id, t.amount, d.kind AS debit_kind, d.owner_id AS debit_owner, c.kind AS credit_kind, c.owner_id AS credit_owner
         FROM transfers t
         JOIN accounts d ON d.account_id = t.debit_account_id
         JOIN accounts c ON c.account_id = t.credit_account_id
        WHERE t.card_no = ANY($1::text[]) AND t.business_date = $2 AND t.op_kind = ANY($3::text[])`,
      [cardNos, businessDate, adjustmentOpKinds],
    );
    for (const row of r.rows) {
      let b = out.get(row.card_no);
      if (!b) {
        b = { byOperator: new Map(), journeyCloses: new Set() };
        out.set(row.card_no, b);
      }
      if (row.op_kind === 'journey-close') b.journeyCloses.add(row.op_id);
      if (row.credit_kind === 'receivable') b.byOperator.set(row.credit_owner, (b.byOperator.get(row.credit_owner) ?? 0n) + row.amount);
      if (row.debit_kind === 'receivable') b.byOperator.set(row.debit_owner, (b.byOperator.get(row.debit_owner) ?? 0n) - row.amount);
    }
    return out;
  }

  async cardTypes(cardNos: readonly string[]): Promise<Map<string, string>> {
    if (cardNos.length === 0) return new Map();
    const r = await this.pool.query<{ card_no: string; card_type: string }>(`SELECT card_no, coalesce(registry_type, card_type) AS card_type FROM cards WHERE card_no = ANY($1::text[])`, [cardNos]);
    return new Map(r.rows.map((row) => [row.card_no, row.card_type]));
  }

  /** Cards with accepted metro taps on a day, by card number after `after`, at most `limit`. */
  async metroCards(businessDate: string, after: string, limit: number): Promise<string[]> {
    const r = await this.pool.query<{ card_no: string }>(
      `SELECT DISTINCT card_no FROM taps WHERE business_date = $1 AND mode = 'metro' AND status = 'accepted' AND card_no > $2 ORDER BY card_no LIMIT $3`,
      [businessDate, after, limit],
    );
    return r.rows.map((row) => row.card_no);
  }

  /** Replaces the journeys of the given card-days with `rows`. */
  async writeJourneys(cardDays: readonly { cardNo: string; businessDate: string }[], rows: readonly JourneyRow[]): Promise<void> {
    if (cardDays.length === 0) return;
    await withTransaction(this.pool, async (client) => {
      await client.query(`DELETE FROM journeys j USING unnest($1::text[], $2::date[]) AS u(card_no, business_date) WHERE j.card_no = u.card_no AND j.business_date = u.business_date`, [
        cardDays.map((d) => d.cardNo),
        cardDays.map((d) => d.businessDate),
      ]);
      if (rows.length === 0) return;
      await client.query(
        `INSERT INTO journeys (journey_id, card_no, business_date, entry_station_id, entry_at, exit_station_id, exit_at, status, fare, distance_m)
         SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::text[], $9::int8[], $10::int4[])
         ON CONFLICT (journey_id) DO UPDATE SET exit_station_id = EXCLUDED.exit_station_id, exit_at = EXCLUDED.exit_at, status = EXCLUDED.status,
                                                fare = EXCLUDED.fare, distance_m = EXCLUDED.distance_m, updated_at = now()`,
        [
          rows.map((j) => j.journeyId),
          rows.map((j) => j.cardNo),
          rows.map((j) => j.businessDate),
          rows.map((j) => j.entryStationId),
          rows.map((j) => j.entryAt?.toISOString() ?? null),
          rows.map((j) => j.exitStationId),
          rows.map((j) => j.exitAt?.toISOString() ?? null),
          rows.map((j) => j.status),
          rows.map((j) => j.fareFen.toString()),
          rows.map((j) => j.distanceM),
        ],
      );
    });
  }

  /** After a top-up: a card whose latest hotlist entry lists it for debt is cleared. */
  async clearDebtListing(cardNo: string): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO hotlist_changes (card_no, listed, reason)
       SELECT $1, false, 'cleared'
        WHERE EXISTS (SELECT 1 FROM (SELECT listed, reason FROM hotlist_changes WHERE card_no = $1 ORDER BY version DESC LIMIT 1) last
                       WHERE last.listed AND last.reason = 'debt')`,
      [cardNo],
    );
    return (r.rowCount ?? 0) > 0;
  }
}
