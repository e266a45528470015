// Read models of the operations console: authorizations per second and decline codes (sampled from
// the metrics' authorization counter), ridership per route and hour with the metro OD matrix, the latest
// nightly job runs, and a sampled Redis/PostgreSQL balance drift check.
import type { Pool } from '../adapters/postgres/db.js';
import type { RedisKeys } from '../adapters/redis/keys.js';
import { cardsInFlight } from '../adapters/redis/in-flight.js';
import { scanTargets, type CardRedis } from '../adapters/redis/client.js';
import { businessDayBounds } from '../domain/business-day.js';
import { codeMeaning, type ResponseCode } from '../domain/codes.js';
import { maskCardNo } from '../domain/card-number.js';
import type { Clock } from '../platform/clock.js';
import { maskLongNumbers } from './citizen.js';

export const statsSampleMs = 1000;
/** Five minutes of one-second samples. */
export const statsSamplesMax = 300;
/** A ridership cell under this many riders is not shown (DESIGN §8). */
export const ridershipCellMin = 5;
export const ridershipRowsMax = 5000;
export const jobRunsMax = 20;
export const jobValueCharsMax = 600;
export const driftSampleMax = 200;
export const driftScanCallsMax = 20;
/** Recent journal rows whose cards are sampled first. */
export const driftRecentTransfersMax = 2000;

export interface StatsSample {
  at: string;
  total: number;
  byCode: Record<string, number>;
}

/** One row of the authorization counts: answers sent on a channel for an operation with a code. */
export interface DecisionRow {
  channel: string;
  operation: string;
  code: string;
  count: number;
}

/** Reads the running authorization counts (the metrics' counter, src/platform/metrics.ts). */
export type DecisionReader = () => Promise<DecisionRow[]>;

function byCode(rows: DecisionRow[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.code, (out.get(r.code) ?? 0) + r.count);
  return out;
}

/**
 * Turns the running authorization counts into per-second samples. The counts are read from the
 * same counter /metrics exposes, so the console and Prometheus cannot disagree.
 */
export class OutcomeSampler {
  private readonly samples: StatsSample[] = [];
  private previous = new Map<string, number>();
  /** The counts at construction: the first sample holds what came after. */
  private readonly primed: Promise<void>;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: DecisionReader,
    private readonly clock: Clock,
  ) {
    this.primed = read().then((rows) => {
      this.previous = byCode(rows);
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample().catch(() => undefined), statsSampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async sample(): Promise<StatsSample> {
    await this.primed;
    const current = byCode(await this.read());
    const counts: Record<string, number> = {};
    let total = 0;
    for (const [code, count] of current) {
      const delta = count - (this.previous.get(code) ?? 0);
      if (delta > 0) {
        counts[code] = delta;
        total += delta;
      }
    }
    this.previous = current;
    const sample = { at: this.clock.now().toISOString(), total, byCode: counts };
    this.samples.push(sample);
    if (this.samples.length > statsSamplesMax) this.samples.splice(0, this.samples.length - statsSamplesMax);
    return sample;
  }

  async snapshot() {
    const rows = await this.read();
    const totals = [...byCode(rows).entries()]
      .map(([code, count]) => ({ code, meaning: meaningOf(code), count }))
      .sort((a, b) => a.code.localeCompare(b.code));
    const last = this.samples[this.samples.length - 1];
    const approved = totals.find((t) => t.code === '00')?.count ?? 0;
    const all = totals.reduce((sum, t) => sum + t.count, 0);
    const channels = rows
      .map((r) => ({ ...r, meaning: meaningOf(r.code) }))
      .sort((a, b) => a.channel.localeCompare(b.channel) || a.operation.localeCompare(b.operation) || a.code.localeCompare(b.code));
    return {
      sampleMs: statsSampleMs,
      perSecond: last?.total ?? 0,
      peakPerSecond: this.samples.reduce((max, s) => Math.max(max, s.total), 0),
      samples: [...this.samples],
      totals,
      channels,
      approved,
      declined: all - approved,
    };
  }
}

export interface RidershipCell {
  count: number | null;
  suppressed: boolean;
}

export interface Ridership {
  businessDate: string;
  /** `taps`: the transit tap log (every accepted ride, free ones too); `transfers`: paid rides in the journal. */
  source: 'taps' | 'transfers';
  cellMin: number;
  byRouteHour: { route: string; hour: number; count: number | null; suppressed: boolean }[];
  routes: { route: string; total: number | null }[];
  od: { from: string; to: string; count: number | null; suppressed: boolean }[];
  stations: string[];
}

function suppress(count: number): RidershipCell {
  return count < ridershipCellMin ? { count: null, suppressed: true } : { count, suppressed: false };
}

/** Command kinds whose transfers are rides; their `detail` names the route or stations. */
export const rideOpKinds = ['tap', 'tap-offline', 'journey-close', 'close-journey'];

type RouteHourRow = { route: string; hour: number; n: number };
type OdRow = { origin: string; destination: string; n: number };

/**
 * Ridership of a business day: boardings per bus route and per metro entry station, by Shanghai
 * hour, and the metro origin–destination matrix; cells under the publication minimum are hidden.
 * Read from the tap log (`taps`, the transit area's table) when it holds the day; otherwise from
 * the journal, which sees paid rides only.
 */
export async function ridership(pool: Pool, businessDate: string): Promise<Ridership> {
  const hasTaps = (await pool.query<{ t: string | null }>(`SELECT to_regclass('taps')::text AS t`)).rows[0]?.t;
  if (hasTaps) {
    const any = await pool.query(`SELECT 1 FROM taps WHERE business_date = $1 AND status = 'accepted' LIMIT 1`, [businessDate]);
    if (any.rowCount === 1) return shape(businessDate, 'taps', ...(await fromTaps(pool, businessDate)));
  }
  return shape(businessDate, 'transfers', ...(await fromTransfers(pool, businessDate)));
}

async function fromTaps(pool: Pool, businessDate: string): Promise<[RouteHourRow[], OdRow[]]> {
  const rides = await pool.query<RouteHourRow>(
    `SELECT route, hour, count(*)::int AS n FROM (
       SELECT CASE kind WHEN 'bus' THEN route_id WHEN 'taxi' THEN 'taxi' ELSE 'metro ' || station_id END AS route,
              extract(hour FROM tapped_at AT TIME ZONE 'Asia/Shanghai')::int AS hour
         FROM taps
        WHERE business_date = $1 AND status = 'accepted' AND kind IN ('bus', 'metro-in', 'taxi')) r
      WHERE route IS NOT NULL
      GROUP BY route, hour ORDER BY route, hour LIMIT $2`,
    [businessDate, ridershipRowsMax],
  );
  const od = await pool.query<OdRow>(
    `SELECT i.station_id AS origin, o.station_id AS destination, count(*)::int AS n
       FROM taps i JOIN taps o ON o.journey_id = i.journey_id AND o.kind = 'metro-out' AND o.status = 'accepted'
      WHERE i.business_date = $1 AND i.kind = 'metro-in' AND i.status = 'accepted'
        AND i.station_id IS NOT NULL AND o.station_id IS NOT NULL
      GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $2`,
    [businessDate, ridershipRowsMax],
  );
  return [rides.rows, od.rows];
}

async function fromTransfers(pool: Pool, businessDate: string): Promise<[RouteHourRow[], OdRow[]]> {
  const rides = await pool.query<RouteHourRow>(
    `SELECT route, hour, count(DISTINCT ride)::int AS n FROM (
       SELECT coalesce(detail->>'routeId', 'metro ' || coalesce(detail->>'entryStationId', detail->>'stationId')) AS route,
              extract(hour FROM created_at AT TIME ZONE 'Asia/Shanghai')::int AS hour,
              coalesce(detail->>'journeyId', op_kind || ':' || op_id) AS ride
         FROM transfers
        WHERE business_date = $1 AND op_kind = ANY($2)
          AND (detail ? 'routeId' OR detail ? 'entryStationId' OR detail ? 'stationId')) r
      WHERE route IS NOT NULL
      GROUP BY route, hour ORDER BY route, hour LIMIT $3`,
    [businessDate, rideOpKinds, ridershipRowsMax],
  );
  const od = await pool.query<OdRow>(
    `SELECT detail->>'entryStationId' AS origin, detail->>'exitStationId' AS destination,
            count(DISTINCT coalesce(detail->>'journeyId', op_kind || ':' || op_id))::int AS n
       FROM transfers
      WHERE business_date = $1 AND op_kind = ANY($2) AND detail ? 'entryStationId' AND detail ? 'exitStationId'
      GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $3`,
    [businessDate, rideOpKinds, ridershipRowsMax],
  );
  return [rides.rows, od.rows];
}

function shape(businessDate: string, source: Ridership['source'], rides: RouteHourRow[], od: OdRow[]): Ridership {
  const totals = new Map<string, number>();
  for (const r of rides) totals.set(r.route, (totals.get(r.route) ?? 0) + r.n);
  const stations = new Set<string>();
  for (const r of od) {
    stations.add(r.origin);
    stations.add(r.destination);
  }
  return {
    businessDate,
    source,
    cellMin: ridershipCellMin,
    byRouteHour: rides.map((r) => ({ route: r.route, hour: r.hour, ...suppress(r.n) })),
    routes: [...totals.entries()].map(([route, total]) => ({ route, total: suppress(total).count })),
    od: od.map((r) => ({ from: r.origin, to: r.destination, ...suppress(r.n) })),
    stations: [...stations].sort(),
  };
}

export interface JobRuns {
  available: boolean;
  columns: string[];
  runs: Record<string, string | number | boolean | null>[];
}

/**
 * The latest rows of the nightly jobs' table (`job_runs`, migration 0005) when it exists. Read by
 * column name so that the console keeps working whatever columns the jobs area settles on; long
 * values are cut and long digit runs (card numbers in hotlist results) masked.
 */
export async function latestJobRuns(pool: Pool): Promise<JobRuns> {
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('job_runs')::text AS t`);
  if (!exists.rows[0]?.t) return { available: false, columns: [], runs: [] };
  const cols = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'job_runs' AND table_schema = current_schema() ORDER BY ordinal_position`,
  );
  const columns = cols.rows.map((c) => c.column_name);
  const order = ['queued_at', 'created_at', 'started_at', 'finished_at', 'run_id', 'id'].find((c) => columns.includes(c));
  const orderBy = order ? `j."${order}" DESC NULLS LAST` : '1';
  // The latest run of each job when runs carry the job's name, else simply the latest runs.
  const sql = columns.includes('name')
    ? `SELECT row FROM (SELECT DISTINCT ON (j.name) to_jsonb(j) AS row, ${order ? `j."${order}"` : 'NULL'} AS at FROM job_runs j ORDER BY j.name, ${orderBy}) x ORDER BY at DESC NULLS LAST LIMIT $1`
    : `SELECT to_jsonb(j) AS row FROM job_runs j ORDER BY ${orderBy} LIMIT $1`;
  const r = await pool.query<{ row: Record<string, unknown> }>(sql, [jobRunsMax]);
  const runs = r.rows.map(({ row }) => {
    const out: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(row)) {
      if (value === null || typeof value === 'boolean' || typeof value === 'number') out[key] = value as null | boolean | number;
      else {
        const text = maskLongNumbers(typeof value === 'string' ? value : JSON.stringify(value));
        out[key] = text.length > jobValueCharsMax ? `${text.slice(0, jobValueCharsMax)}…` : text;
      }
    }
    return out;
  });
  return { available: true, columns, runs };
}

export interface DriftReport {
  at: string;
  sampled: number;
  matched: number;
  inFlight: number;
  drifted: { card: string; redisPurse: number; pgPurse: number; redisMedical: number; pgMedical: number }[];
  ok: boolean;
}

function cardOfStateKey(key: string, prefix: string): string | null {
  const m = /^\{card:(\d{16})\}:s$/.exec(key.slice(prefix.length));
  return m ? m[1]! : null;
}

/**
 * Compares a sample of cached cards' purse and medical balances with PostgreSQL: the most recently
 * active cards (from the journal, where drift would show first) and some others found by SCAN. A
 * card with a command applied in Redis but not yet committed (in the pending set) is in flight, not
 * drifted; a difference is re-read once before it is reported, so a command landing between the
 * two reads is not reported either.
 */
export async function sampleDrift(redis: CardRedis, keys: RedisKeys, pool: Pool, clock: Clock): Promise<DriftReport> {
  const recent = await pool.query<{ card_no: string }>(
    `SELECT card_no FROM (SELECT card_no, transfer_id FROM transfers WHERE card_no IS NOT NULL ORDER BY transfer_id DESC LIMIT $1) t
      GROUP BY card_no ORDER BY max(transfer_id) DESC LIMIT $2`,
    [driftRecentTransfersMax, driftSampleMax],
  );
  const candidates = new Set(recent.rows.map((r) => r.card_no));
  // Every master of a cluster is scanned in turn (SCAN is per server).
  let calls = 0;
  for (const node of scanTargets(redis)) {
    let cursor = '0';
    for (; calls < driftScanCallsMax && candidates.size < driftSampleMax * 2; calls++) {
      const [next, found] = await node.scan(cursor, 'MATCH', keys.cardPattern(), 'COUNT', 500);
      for (const key of found) {
        const cardNo = cardOfStateKey(key, keys.prefix);
        if (cardNo) candidates.add(cardNo);
      }
      cursor = next;
      if (cursor === '0') break;
    }
  }
  const listed = [...candidates];
  // One command per card (auto-pipelined; on a cluster the cards' keys are on several nodes).
  const exists = await Promise.all(listed.map((cardNo) => redis.exists(keys.cardState(cardNo))));
  const cards = listed.filter((_, i) => exists[i] === 1).slice(0, driftSampleMax);
  const pending = await cardsInFlight(redis, keys, cards);

  const compare = async (list: string[]) => {
    const cached = (await Promise.all(list.map((cardNo) => redis.hmget(keys.cardState(cardNo), 'pu', 'me')))).map((fields) => [null, fields] as const);
    const pg = await pool.query<{ owner_id: string; kind: string; balance: bigint }>(
      `SELECT owner_id, kind, balance FROM accounts WHERE kind IN ('purse', 'medical') AND owner_id = ANY($1)`,
      [list],
    );
    const ledger = new Map<string, { purse: bigint; medical: bigint }>();
    for (const row of pg.rows) {
      const entry = ledger.get(row.owner_id) ?? { purse: 0n, medical: 0n };
      if (row.kind === 'purse') entry.purse = row.balance;
      else entry.medical = row.balance;
      ledger.set(row.owner_id, entry);
    }
    const differing: DriftReport['drifted'] = [];
    const differingCards: string[] = [];
    list.forEach((cardNo, i) => {
      const [pu, me] = (cached[i]?.[1] as (string | null)[] | undefined) ?? [null, null];
      if (pu === null || me === null || pu === undefined || me === undefined) return; // evicted meanwhile
      const truth = ledger.get(cardNo) ?? { purse: 0n, medical: 0n };
      if (BigInt(pu) !== truth.purse || BigInt(me) !== truth.medical) {
        differingCards.push(cardNo);
        differing.push({ card: maskCardNo(cardNo), redisPurse: Number(pu), pgPurse: Number(truth.purse), redisMedical: Number(me), pgMedical: Number(truth.medical) });
      }
    });
    return { differing, differingCards };
  };

  const settled = cards.filter((c) => !pending.has(c));
  const first = settled.length > 0 ? await compare(settled) : { differing: [], differingCards: [] };
  const second = first.differingCards.length > 0 ? await compare(first.differingCards) : first;
  return {
    at: clock.now().toISOString(),
    sampled: cards.length,
    matched: settled.length - second.differing.length,
    inFlight: cards.length - settled.length,
    drifted: second.differing,
    ok: second.differing.length === 0,
  };
}

/** The business day's bounds as RFC 3339, for the console's captions. */
export function dayCaption(businessDate: string): { from: string; to: string } {
  const { start, end } = businessDayBounds(businessDate);
  return { from: start.toISOString(), to: end.toISOString() };
}

export function meaningOf(code: string): string {
  return (codeMeaning as Record<ResponseCode, string>)[code as ResponseCode] ?? 'unknown';
}
