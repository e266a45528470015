// Helpers of the transit integration tests: taps through the real API, ledger and taps-table reads.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import type { Pool } from 'pg';
import { admin, registerTerminal, type RegisteredTerminal } from '../support/fixtures.js';

/** A Monday well in the past (policy demo-2026-01 is in force): times are Shanghai wall clock. */
export const day = '2026-03-02';
export const at = (hhmm: string, date = day): string => `${date}T${hhmm.length === 5 ? `${hhmm}:00` : hhmm}+08:00`;

let seq = 0;
export function tapId(prefix = 't'): string {
  seq++;
  return `${prefix}-${randomBytes(4).toString('hex')}-${seq}`;
}

let terminalSeq = 0;
function terminalIdOf(prefix: string): string {
  terminalSeq++;
  return `${prefix}${randomBytes(2).toString('hex').toUpperCase()}${String(terminalSeq).padStart(8 - prefix.length - 4, '0')}`.slice(0, 8);
}

export function bus(app: FastifyInstance, routeId = 'B2'): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalIdOf('B'), kind: 'bus', operatorId: 'ZZBUS', routeId });
}

export function gate(app: FastifyInstance, stationId: string): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalIdOf('G'), kind: 'gate', operatorId: 'ZZMETRO', stationId });
}

export function taxi(app: FastifyInstance): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalIdOf('X'), kind: 'taxi', operatorId: 'ZZTAXI' });
}

export interface TapBody {
  tapId: string;
  cardNo: string;
  tappedAt: string;
  direction?: 'in' | 'out';
  amount?: number;
}

export function postTap(app: FastifyInstance, t: RegisteredTerminal, body: TapBody): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/taps', headers: t.headers, payload: body });
}

/** A tap that must be answered 200; returns the JSON answer. */
export async function tap(app: FastifyInstance, t: RegisteredTerminal, cardNo: string, when: string, extra: Partial<TapBody> = {}): Promise<Record<string, unknown>> {
  const res = await postTap(app, t, { tapId: tapId(), cardNo, tappedAt: when, ...extra });
  if (res.statusCode !== 200) throw new Error(`tap answered ${res.statusCode}: ${res.body}`);
  return res.json() as Record<string, unknown>;
}

export function upload(app: FastifyInstance, t: RegisteredTerminal, taps: unknown[]): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/taps/batch', headers: t.headers, payload: { taps } });
}

export async function purse(app: FastifyInstance, cardNo: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json().purse as number;
}

/** What the card paid for transit: its purse postings of taps, adjustments and journey closures (+ = paid). */
export async function paidFen(pool: Pool, cardNo: string): Promise<number> {
  const r = await pool.query<{ paid: string }>(
    `SELECT coalesce(sum(CASE WHEN d.kind = 'purse' AND d.owner_id = $1 THEN t.amount ELSE -t.amount END), 0)::text AS paid
       FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id
      WHERE t.card_no = $1 AND t.op_kind IN ('tap', 'fare-adjust', 'journey-close')`,
    [cardNo],
  );
  return Number(r.rows[0]!.paid);
}

export async function ledgerCounts(pool: Pool, cardNo: string): Promise<{ transfers: number; taps: number }> {
  const r = await pool.query<{ transfers: number; taps: number }>(
    `SELECT (SELECT count(*)::int FROM transfers WHERE card_no = $1) AS transfers, (SELECT count(*)::int FROM taps WHERE card_no = $1) AS taps`,
    [cardNo],
  );
  return r.rows[0]!;
}

export async function trialBalanced(app: FastifyInstance): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
  return res.json().balanced as boolean;
}
