// Published statistics against a generated population of 100,000 registered people and a day of
// their taps (generated with generate_series, beside the API, for speed): every published cell
// counts at least 5 distinct people (checked against the true counts), small cells are suppressed,
// repeats are identical (no averaging), and tables that differ by one person do not reveal them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin } from '../support/fixtures.js';
import { department, type Department } from './registry-support.js';

let sys: TestSystem;
let planning: Department;
let noStats: Department;
const day = '2026-03-02';
const populationSize = 100_000;
const districts = ['Jinshui', 'Erqi', 'Zhongyuan', 'Guancheng', 'Huiji', 'Zhengdong'];
const metroStations = ['L1-01', 'L1-08', 'L1-16', 'L2-02', 'L2-06', 'L2-12'];

type Row = Record<string, string | number>;

/** Adds `count` people from number `from`, each with a card and a day of taps: SQL only. */
async function generate(from: number, count: number, opts: { district?: string; birthDate?: string; hour?: number; tapsEach?: number; cardType?: string } = {}): Promise<void> {
  const to = from + count - 1;
  await sys.pool.query(
    `INSERT INTO citizens (name, id_number_hmac, id_number_enc, id_number_masked, insured)
     SELECT 'Gen ' || g, decode(md5('gen-id-' || g), 'hex'), '\\x00'::bytea, '410***' || g, true FROM generate_series($1::int, $2::int) g`,
    [from, to],
  );
  await sys.pool.query(
    `INSERT INTO people (id_type, id_number_hmac, id_number_enc, id_number_masked, citizen_id, created_by)
     SELECT 'id_card', c.id_number_hmac, '\\x00'::bytea, c.id_number_masked, c.citizen_id, 'generator'
       FROM citizens c WHERE c.id_number_hmac IN (SELECT decode(md5('gen-id-' || g), 'hex') FROM generate_series($1::int, $2::int) g)`,
    [from, to],
  );
  await sys.pool.query(
    `INSERT INTO person_fields (person_id, field, value, change_id)
     SELECT p.person_id, f.field, f.value, 0
       FROM people p JOIN citizens c USING (citizen_id), LATERAL (SELECT substr(c.name, 5)::int AS g) n,
            LATERAL (VALUES ('district', to_jsonb(coalesce($3::text, ($4::text[])[1 + abs(hashtext('d' || n.g)) % 6]))),
                            ('birthDate', to_jsonb(coalesce($5::text, to_char(date '1940-01-01' + abs(hashtext('b' || n.g)) % 25000, 'YYYY-MM-DD'))))) AS f(field, value)
      WHERE n.g BETWEEN $1 AND $2`,
    [from, to, opts.district ?? null, districts, opts.birthDate ?? null],
  );
  await sys.pool.query(
    `INSERT INTO cards (card_no, citizen_id, card_type, expires_on)
     SELECT '9' || lpad(substr(c.name, 5), 15, '0'), c.citizen_id,
            coalesce($3::text, (ARRAY['adult', 'adult', 'student', 'senior'])[1 + abs(hashtext('t' || c.name)) % 4]), date '2031-01-01'
       FROM citizens c WHERE c.name LIKE 'Gen %' AND substr(c.name, 5)::int BETWEEN $1 AND $2`,
    [from, to, opts.cardType ?? null],
  );
  // Bus boardings: 1 to 3 per person at hours spread over the day (or the given hour and count).
  await sys.pool.query(
    `INSERT INTO taps (tap_id, card_no, terminal_id, operator_id, mode, kind, route_id, tapped_at, business_date, fare, status, code, request_hash)
     SELECT 'gen-' || g || '-' || k, '9' || lpad(g::text, 15, '0'), 'BGEN0001', 'ZZBUS', 'bus', 'bus', 'B2',
            ($3::date + make_interval(hours => coalesce($4::int, 6 + abs(hashtext('h' || g || '-' || k)) % 16), mins => k)) AT TIME ZONE 'Asia/Shanghai', $3::date, 100, 'accepted', '00', 'h'
       FROM generate_series($1::int, $2::int) g, generate_series(1, coalesce($5::int, 1 + abs(hashtext('n' || g)) % 3)) k`,
    [from, to, day, opts.hour ?? null, opts.tapsEach ?? null],
  );
  if (opts.hour !== undefined) return;
  // Metro journeys (tap-in and tap-out sharing a journey id) for every fifth person.
  await sys.pool.query(
    `INSERT INTO taps (tap_id, card_no, terminal_id, operator_id, mode, kind, station_id, tapped_at, business_date, fare, status, code, journey_id, request_hash)
     SELECT 'gen-m' || g || d.kind, '9' || lpad(g::text, 15, '0'), 'GGEN0001', 'ZZMETRO', 'metro', d.kind,
            CASE d.kind WHEN 'metro-in' THEN ($4::text[])[1 + abs(hashtext('i' || g)) % 6] ELSE ($4::text[])[1 + abs(hashtext('o' || g)) % 6] END,
            ($3::date + interval '18 hours' + d.offs) AT TIME ZONE 'Asia/Shanghai', $3::date, CASE d.kind WHEN 'metro-out' THEN 300 ELSE 0 END,
            'accepted', '00', 'J-gen-' || g, 'h'
       FROM generate_series($1::int, $2::int) g, (VALUES ('metro-in', interval '0 minutes'), ('metro-out', interval '25 minutes')) AS d(kind, offs)
      WHERE g % 5 = 0`,
    [from, to, day, metroStations],
  );
}

async function table(name: string, query: string, headers = admin): Promise<{ rows: Row[]; columns: string[] }> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/stats/${name}?${query}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The true distinct-people count of every ridership cell (what is never published as such). */
async function trueRidership(): Promise<Map<string, number>> {
  const r = await sys.pool.query<{ k: string; n: number }>(
    `SELECT concat_ws('|', coalesce(fd.value #>> '{}', 'unknown'), extract(hour FROM t.tapped_at AT TIME ZONE 'Asia/Shanghai')::int,
              CASE WHEN fb.value IS NULL THEN 'unknown'
                   WHEN date_part('year', age($1::date, (fb.value #>> '{}')::date)) < 18 THEN '0-17'
                   WHEN date_part('year', age($1::date, (fb.value #>> '{}')::date)) < 35 THEN '18-34'
                   WHEN date_part('year', age($1::date, (fb.value #>> '{}')::date)) < 60 THEN '35-59' ELSE '60+' END,
              coalesce(c.registry_type, c.card_type)) AS k,
            count(DISTINCT c.citizen_id)::int AS n
       FROM taps t JOIN cards c USING (card_no) LEFT JOIN people p ON p.citizen_id = c.citizen_id
       LEFT JOIN person_fields fd ON fd.person_id = p.person_id AND fd.field = 'district'
       LEFT JOIN person_fields fb ON fb.person_id = p.person_id AND fb.field = 'birthDate'
      WHERE t.business_date = $1 AND t.status = 'accepted' AND t.kind <> 'metro-out' GROUP BY 1`,
    [day],
  );
  return new Map(r.rows.map((row) => [row.k, row.n]));
}

const keyOf = (r: Row): string => [r.district, r.hour, r.age_band, r.card_type].join('|');

beforeAll(async () => {
  sys = await createTestSystem();
  planning = await department(sys.http, 'city_planning', [], ['stats']);
  noStats = await department(sys.http, 'family_planning', ['familyPlanning'], ['familyPlanning']);
  await generate(1, populationSize);
  // A small group: 3 people of a district and hour nobody else rides in.
  await generate(800_000, 3, { district: 'Shangjie', birthDate: '1990-01-01', hour: 5, tapsEach: 1, cardType: 'adult' });
  await sys.pool.query('ANALYZE');
}, 240_000);
afterAll(async () => sys.destroy(), 120_000);

describe('published statistics', () => {
  it('publishes ridership by district × hour × age band × card type with no cell under 5 people', async () => {
    const people = await sys.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM people`);
    expect(people.rows[0]!.n).toBeGreaterThanOrEqual(100_000);
    const truth = await trueRidership();
    const small = [...truth].filter(([, n]) => n < 5).map(([k]) => k);
    expect(small.length).toBeGreaterThan(0); // the generated day has small groups to protect
    const t = await table('ridership', `businessDate=${day}`, { authorization: planning.headers.authorization });
    expect(t.columns).toEqual(['district', 'hour', 'age_band', 'card_type', 'people', 'boardings']);
    expect(t.rows.length).toBeGreaterThan(100);
    for (const row of t.rows) {
      expect(truth.get(keyOf(row))).toBeGreaterThanOrEqual(5);
      expect(row.people).toBeGreaterThanOrEqual(5);
    }
    const published = new Set(t.rows.map(keyOf));
    for (const k of small) expect(published.has(k)).toBe(false);
    // Repeating the same publication gives the same numbers: nothing to average away.
    expect((await table('ridership', `businessDate=${day}`)).rows).toEqual(t.rows);
  }, 240_000);

  it('publishes OD flows, top-up channels and medical spend under the same rule, as JSON and CSV', async () => {
    const od = await table('od-flows', `businessDate=${day}`);
    expect(od.rows.length).toBeGreaterThan(0);
    for (const row of od.rows) expect(row.people).toBeGreaterThanOrEqual(5);
    const csv = await sys.http.inject({ method: 'GET', url: `/v1/stats/od-flows?businessDate=${day}&format=csv`, headers: admin });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('origin,destination,people,journeys');
    expect(lines.length).toBe(od.rows.length + 1);
    const topups = await table('topup-channels', 'month=2026-03');
    expect(topups.columns).toEqual(['channel', 'district', 'people', 'topups', 'amount_fen']);
    const medical = await table('medical-spend', 'month=2026-03');
    expect(medical.rows).toEqual([]); // no claims in the generated month: nothing to publish
    const missing = await sys.http.inject({ method: 'GET', url: '/v1/stats/ridership', headers: admin });
    expect(missing.statusCode).toBe(400);
  });

  it('is open to the admin and departments with the stats right only, and audited', async () => {
    expect((await sys.http.inject({ method: 'GET', url: `/v1/stats/topup-channels?month=2026-03`, headers: planning.headers })).statusCode).toBe(200);
    const denied = await sys.http.inject({ method: 'GET', url: `/v1/stats/ridership?businessDate=${day}`, headers: noStats.headers });
    expect(denied.statusCode).toBe(403);
    expect((await sys.http.inject({ method: 'GET', url: `/v1/stats/ridership?businessDate=${day}` })).statusCode).toBe(401);
    const audit = await sys.http.inject({ method: 'GET', url: '/v1/admin/audit?departmentId=city_planning', headers: admin });
    expect(audit.json().items.some((a: { action: string; outcome: string }) => a.action === 'stats' && a.outcome === 'ok')).toBe(true);
    const auditDenied = await sys.http.inject({ method: 'GET', url: '/v1/admin/audit?departmentId=family_planning', headers: admin });
    expect(auditDenied.json().items.some((a: { action: string; outcome: string }) => a.action === 'stats' && a.outcome === 'forbidden')).toBe(true);
  });

  it('does not reveal a person by differencing two tables that differ by that person', async () => {
    // One cell: Jinshui residents aged 35-59 with an adult card boarding at 08:00. People join it one at a time.
    const cell = { district: 'Jinshui', hour: 8, age_band: '35-59', card_type: 'adult' };
    const find = (rows: Row[]) => rows.find((r) => keyOf(r) === keyOf(cell));
    const trials = 12;
    let previous = await table('ridership', `businessDate=${day}`);
    const differences: { people: number; boardings: number }[] = [];
    for (let i = 0; i < trials; i++) {
      await generate(900_000 + i, 1, { district: 'Jinshui', birthDate: '1980-06-01', hour: 8, tapsEach: 1, cardType: 'adult' });
      const next = await table('ridership', `businessDate=${day}`);
      const before = find(previous.rows);
      const after = find(next.rows);
      expect(before, 'the cell is large enough to be published').toBeDefined();
      expect(after).toBeDefined();
      differences.push({ people: Number(after!.people) - Number(before!.people), boardings: Number(after!.boardings) - Number(before!.boardings) });
      // Every other cell is unchanged: their people and keys are the same.
      const others = (rows: Row[]) => rows.filter((r) => keyOf(r) !== keyOf(cell));
      expect(others(next.rows)).toEqual(others(previous.rows));
      previous = next;
    }
    // Exact differencing would give people +1 and boardings +1 every time. The published
    // differences do not: the person's presence is masked by fresh noise for the changed cell.
    const exact = differences.filter((d) => d.people === 1 && d.boardings === 1).length;
    expect(exact).toBeLessThanOrEqual(trials / 2);
    // Some publications show no increase at all although a person joined.
    expect(differences.some((d) => d.people <= 0 || d.boardings <= 0)).toBe(true);
    expect(new Set(differences.map((d) => d.people)).size).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
