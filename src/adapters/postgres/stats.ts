// The statistics tables' raw cells (docs/statistics.md), aggregated in PostgreSQL: per cell the
// distinct people (card holders), the sum of their record keys (the cell key) and each measure's
// total and largest single-person contribution. Disclosure control happens in the domain.
import type { Pool } from './db.js';
import type { RawCell } from '../../domain/stats/disclosure.js';

// A person's residence district and age, from the registry (unknown when not registered).
const holderColumns = `coalesce(fd.value #>> '{}', 'unknown') AS district`;
const holderJoins = `LEFT JOIN people p ON p.citizen_id = c.citizen_id
  LEFT JOIN person_fields fd ON fd.person_id = p.person_id AND fd.field = 'district'`;
const ageBand = (onDate: string) => `CASE
    WHEN fb.value IS NULL THEN 'unknown'
    WHEN date_part('year', age(${onDate}, (fb.value #>> '{}')::date)) < 18 THEN '0-17'
    WHEN date_part('year', age(${onDate}, (fb.value #>> '{}')::date)) < 35 THEN '18-34'
    WHEN date_part('year', age(${onDate}, (fb.value #>> '{}')::date)) < 60 THEN '35-59'
    ELSE '60+' END`;

interface CellRow {
  dims: Record<string, string | number>;
  people: number;
  cell_key: string;
  m: Record<string, string>;
}

function cellsOf(rows: CellRow[], measures: { name: string; fen?: boolean }[]): RawCell[] {
  return rows.map((row) => ({
    dims: row.dims,
    people: row.people,
    cellKey: BigInt(row.cell_key),
    measures: Object.fromEntries(measures.map((m) => [m.name, { total: BigInt(row.m[m.name]!), maxPerPerson: BigInt(row.m[`${m.name}Max`]!), ...(m.fen ? { fen: true } : {}) }])),
  }));
}

/**
 * Per-person rows (dims + citizen_id + measure columns) → cells with people, key and measures. A
 * holder's record key is 32 bits of md5(secret ‖ citizen id): permanent, uniform, unknowable
 * without the secret (a MASTER_KEY-derived parameter, `$keyParam`).
 */
function aggregate(perPerson: string, dims: string[], measures: string[], keyParam: number): string {
  const dimsJson = `jsonb_build_object(${dims.map((d) => `'${d}', ${d}`).join(', ')})`;
  const m = `jsonb_build_object(${measures.map((x) => `'${x}', sum(${x})::text, '${x}Max', max(${x})::text`).join(', ')})`;
  return `WITH per AS (${perPerson})
    SELECT ${dimsJson} AS dims, count(*)::int AS people,
           (sum(('x' || substr(md5($${keyParam}::text || per.citizen_id::text), 1, 8))::bit(32)::bigint) % 4294967296)::text AS cell_key, ${m} AS m
      FROM per
     GROUP BY ${dims.join(', ')}
     ORDER BY ${dims.join(', ')}`;
}

export class PgStats {
  /** `recordKeySecret`: hex, derived from MASTER_KEY for this purpose only. */
  constructor(
    private readonly pool: Pool,
    private readonly recordKeySecret: string,
  ) {}

  /** Boardings (bus taps, metro tap-ins, taxi rides) by residence district × hour × age band × card type. */
  async ridership(businessDate: string): Promise<RawCell[]> {
    const per = `SELECT ${holderColumns},
        extract(hour FROM t.tapped_at AT TIME ZONE 'Asia/Shanghai')::int AS hour,
        ${ageBand('$1::date')} AS age_band,
        coalesce(c.registry_type, c.card_type) AS card_type,
        c.citizen_id, count(*)::bigint AS boardings
      FROM taps t JOIN cards c ON c.card_no = t.card_no ${holderJoins}
      LEFT JOIN person_fields fb ON fb.person_id = p.person_id AND fb.field = 'birthDate'
      WHERE t.business_date = $1 AND t.status = 'accepted' AND t.kind <> 'metro-out'
      GROUP BY 1, 2, 3, 4, 5`;
    const r = await this.pool.query<CellRow>(aggregate(per, ['district', 'hour', 'age_band', 'card_type'], ['boardings'], 2), [businessDate, this.recordKeySecret]);
    return cellsOf(r.rows, [{ name: 'boardings' }]);
  }

  /** Metro journeys by the district of the entry station × the district of the exit station. */
  async odFlows(businessDate: string, stationDistricts: ReadonlyMap<string, string>): Promise<RawCell[]> {
    const per = `WITH m AS (SELECT card_no, journey_id, kind, station_id FROM taps
                    WHERE business_date = $1 AND status = 'accepted' AND mode = 'metro' AND journey_id IS NOT NULL),
                  sd AS (SELECT * FROM unnest($2::text[], $3::text[]) AS sd(station_id, district))
      SELECT coalesce(si.district, 'unknown') AS origin, coalesce(so.district, 'unknown') AS destination, c.citizen_id, count(*)::bigint AS journeys
        FROM m o
        JOIN m i ON i.journey_id = o.journey_id AND i.card_no = o.card_no AND i.kind = 'metro-in'
        JOIN cards c ON c.card_no = o.card_no
        LEFT JOIN sd si ON si.station_id = i.station_id
        LEFT JOIN sd so ON so.station_id = o.station_id
       WHERE o.kind = 'metro-out'
       GROUP BY 1, 2, 3`;
    const r = await this.pool.query<CellRow>(aggregate(per, ['origin', 'destination'], ['journeys'], 4), [businessDate, [...stationDistricts.keys()], [...stationDistricts.values()], this.recordKeySecret]);
    return cellsOf(r.rows, [{ name: 'journeys' }]);
  }

  /** Settled medical claims by residence district and month: claims, total and fund-paid fen. */
  async medicalSpend(month: string): Promise<RawCell[]> {
    const per = `SELECT ${holderColumns}, to_char(mc.business_date, 'YYYY-MM') AS month, c.citizen_id,
        count(*)::bigint AS claims, sum(mc.total)::bigint AS spend_fen, sum(mc.fund)::bigint AS fund_fen
      FROM medical_claims mc JOIN citizens c ON c.citizen_id = mc.citizen_id ${holderJoins}
      WHERE mc.status = 'settled' AND to_char(mc.business_date, 'YYYY-MM') = $1
      GROUP BY 1, 2, 3`;
    const r = await this.pool.query<CellRow>(aggregate(per, ['district', 'month'], ['claims', 'spend_fen', 'fund_fen'], 2), [month, this.recordKeySecret]);
    return cellsOf(r.rows, [{ name: 'claims' }, { name: 'spend_fen', fen: true }, { name: 'fund_fen', fen: true }]);
  }

  /** Top-ups by channel × residence district and month: top-ups and fen. */
  async topupChannels(month: string): Promise<RawCell[]> {
    const per = `SELECT a.owner_id AS channel, ${holderColumns}, c.citizen_id, count(*)::bigint AS topups, sum(t.amount)::bigint AS amount_fen
      FROM transfers t
      JOIN accounts a ON a.account_id = t.debit_account_id AND a.kind = 'clearing'
      JOIN cards cd ON cd.card_no = t.card_no
      JOIN citizens c ON c.citizen_id = cd.citizen_id ${holderJoins}
      WHERE t.op_kind = 'topup' AND t.leg = 0 AND to_char(t.business_date, 'YYYY-MM') = $1
      GROUP BY 1, 2, 3`;
    const r = await this.pool.query<CellRow>(aggregate(per, ['channel', 'district'], ['topups', 'amount_fen'], 2), [month, this.recordKeySecret]);
    return cellsOf(r.rows, [{ name: 'topups' }, { name: 'amount_fen', fen: true }]);
  }
}
