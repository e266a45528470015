// The `taps` table (migrations/0003_iso_taps.sql, 0018): the ledger writer's part (tap rows inserted
// in the same transaction as their fare transfer) and the reads of the transit use cases. A tapId
// is unique only within its validator (DESIGN §11): rows are keyed by (terminal_id, tap_id).
import type { Pool, PoolClient } from './db.js';
import type { TapRow } from '../../app/ports.js';

interface TapCommand {
  opKind: string;
  opId: string;
  terminalId?: string | null;
  detail?: Record<string, unknown>;
  tap?: TapRow;
}

const insertTapsSql = `
INSERT INTO taps (tap_id, card_no, terminal_id, operator_id, mode, kind, route_id, station_id, tapped_at,
                  business_date, fare, status, code, journey_id, explanation, uploaded, request_hash, detail)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::timestamptz[], $10::date[], $11::int8[], $12::text[], $13::text[], $14::text[], $15::jsonb[],
                     $16::bool[], $17::text[], $18::jsonb[])
ON CONFLICT (terminal_id, tap_id) DO NOTHING
RETURNING terminal_id, tap_id`;

function tapColumns(rows: { tap: TapRow; detail: Record<string, unknown> }[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 18 }, () => []);
  for (const { tap: t, detail } of rows) {
    const values = [
      t.tapId, t.cardNo, t.terminalId, t.operatorId, t.mode, t.kind, t.routeId, t.stationId, t.tappedAt.toISOString(),
      t.businessDate, t.fareFen.toString(), t.status, t.code, t.journeyId, JSON.stringify(t.explanation), t.uploaded, t.requestHash,
      JSON.stringify(detail),
    ];
    values.forEach((v, i) => cols[i]!.push(v));
  }
  return cols;
}

/**
 * Inserts the tap rows of a ledger batch inside its transaction. Returns the commands whose tap was
 * already recorded (by an earlier command, or by the first of two equal tap ids in this batch):
 * they are duplicates, and their legs must not be written.
 */
export async function insertTapRows<C extends TapCommand>(client: PoolClient, commands: readonly C[]): Promise<Set<C>> {
  const duplicates = new Set<C>();
  const first = new Map<string, C>();
  const rows: { tap: TapRow; detail: Record<string, unknown> }[] = [];
  for (const c of commands) {
    if (!c.tap) continue;
    const key = tapKey(c.tap.terminalId, c.tap.tapId);
    if (first.has(key)) {
      duplicates.add(c);
      continue;
    }
    first.set(key, c);
    // The rest of the command's detail is in the tap's own columns and on its transfer.
    rows.push({ tap: c.tap, detail: { purseAfter: c.detail?.purseAfter, medicalAfter: c.detail?.medicalAfter } });
  }
  if (rows.length === 0) return duplicates;
  const r = await client.query<{ terminal_id: string; tap_id: string }>(insertTapsSql, tapColumns(rows));
  const inserted = new Set(r.rows.map((row) => tapKey(row.terminal_id, row.tap_id)));
  for (const [key, c] of first) if (!inserted.has(key)) duplicates.add(c);
  return duplicates;
}

const tapKey = (terminalId: string, tapId: string): string => `${terminalId}\u0000${tapId}`;

/** Rejected taps of an offline upload (no money moved): recorded so that a re-upload gets the same answer. */
export async function insertRejectedTaps(pool: Pool, taps: readonly TapRow[]): Promise<void> {
  if (taps.length === 0) return;
  await pool.query(insertTapsSql, tapColumns(taps.map((tap) => ({ tap, detail: { rejected: true, code: tap.code } }))));
}

export interface KnownTap {
  transferIds: bigint[];
  requestHash: string;
  detail: Record<string, unknown>;
}

/** For duplicates: the stored tap and the transfers of its command, by `knownTapKey` (validator and tap id). */
export async function knownTaps(pool: Pool, commands: readonly TapCommand[]): Promise<Map<string, KnownTap>> {
  const withTap = commands.filter((c): c is TapCommand & { tap: TapRow } => c.tap !== undefined);
  const r = await pool.query<{ terminal_id: string; tap_id: string; request_hash: string; detail: Record<string, unknown>; transfer_ids: string[] }>(
    `SELECT t.terminal_id, t.tap_id, t.request_hash, t.detail,
            ARRAY(SELECT x.transfer_id::text FROM transfers x
                   WHERE x.op_kind = u.op_kind AND x.op_scope = u.terminal_id AND x.op_id = u.op_id ORDER BY x.leg) AS transfer_ids
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(op_kind, op_id, terminal_id, tap_id)
       JOIN taps t ON t.terminal_id = u.terminal_id AND t.tap_id = u.tap_id`,
    [withTap.map((c) => c.opKind), withTap.map((c) => c.opId), withTap.map((c) => c.tap.terminalId), withTap.map((c) => c.tap.tapId)],
  );
  return new Map(
    r.rows.map((row) => [tapKey(row.terminal_id, row.tap_id), { transferIds: row.transfer_ids.map((id) => BigInt(id)), requestHash: row.request_hash, detail: row.detail }]),
  );
}

/** The key of a tap in the map knownTaps answers. */
export function knownTapKey(tap: Pick<TapRow, 'terminalId' | 'tapId'>): string {
  return tapKey(tap.terminalId, tap.tapId);
}

/** A stored tap as the use cases read it. */
export interface StoredTap {
  tapId: string;
  cardNo: string;
  terminalId: string;
  operatorId: string | null;
  mode: TapRow['mode'];
  kind: TapRow['kind'];
  routeId: string | null;
  stationId: string | null;
  tappedAt: Date;
  businessDate: string;
  fareFen: bigint;
  status: TapRow['status'];
  code: string;
  journeyId: string | null;
  explanation: string[];
  requestHash: string;
  balanceFen: bigint | null;
}

const tapSelect = `SELECT tap_id, card_no, terminal_id, operator_id, mode, kind, route_id, station_id, tapped_at, business_date::text AS business_date,
                          fare, status, code, journey_id, explanation, request_hash, detail->>'purseAfter' AS purse_after FROM taps`;

interface TapDbRow {
  tap_id: string;
  card_no: string;
  terminal_id: string;
  operator_id: string | null;
  mode: TapRow['mode'];
  kind: TapRow['kind'];
  route_id: string | null;
  station_id: string | null;
  tapped_at: Date;
  business_date: string;
  fare: bigint;
  status: TapRow['status'];
  code: string;
  journey_id: string | null;
  explanation: string[];
  request_hash: string;
  purse_after: string | null;
}

function storedTap(row: TapDbRow): StoredTap {
  return {
    tapId: row.tap_id,
    cardNo: row.card_no,
    terminalId: row.terminal_id,
    operatorId: row.operator_id,
    mode: row.mode,
    kind: row.kind,
    routeId: row.route_id,
    stationId: row.station_id,
    tappedAt: row.tapped_at,
    businessDate: row.business_date,
    fareFen: row.fare,
    status: row.status,
    code: row.code,
    journeyId: row.journey_id,
    explanation: row.explanation,
    requestHash: row.request_hash,
    balanceFen: row.purse_after !== null && /^-?\d+$/.test(row.purse_after) ? BigInt(row.purse_after) : null,
  };
}

/** A validator's stored taps by tap id (its tap ids are its own, DESIGN §11). */
export async function tapsById(pool: Pool, terminalId: string, tapIds: readonly string[]): Promise<Map<string, StoredTap>> {
  if (tapIds.length === 0) return new Map();
  const r = await pool.query<TapDbRow>(`${tapSelect} WHERE terminal_id = $1 AND tap_id = ANY($2::text[])`, [terminalId, tapIds]);
  return new Map(r.rows.map((row) => [row.tap_id, storedTap(row)]));
}

/** The accepted taps of some cards on one business day, in time order (tap id breaks ties). */
export async function acceptedTapsOfDay(pool: Pool, cardNos: readonly string[], businessDate: string): Promise<Map<string, StoredTap[]>> {
  const out = new Map<string, StoredTap[]>();
  if (cardNos.length === 0) return out;
  const r = await pool.query<TapDbRow>(
    `${tapSelect} WHERE card_no = ANY($1::text[]) AND business_date = $2 AND status = 'accepted' ORDER BY card_no, tapped_at, created_at, tap_id`,
    [cardNos, businessDate],
  );
  for (const row of r.rows) {
    const list = out.get(row.card_no) ?? [];
    list.push(storedTap(row));
    out.set(row.card_no, list);
  }
  return out;
}
