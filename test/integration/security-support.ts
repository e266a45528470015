// Helpers shared by the money-core security tests: calls through the real HTTP interface and the
// ledger checks every attack test ends with (books balanced, attacked balances unchanged).
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { admin, type RegisteredTerminal } from '../support/fixtures.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';

export function pinBlockFor(pin: string, cardNo: string, t: RegisteredTerminal): string {
  return encryptPinBlock(pin, cardNo, Buffer.from(t.tpk, 'hex')).toString('hex').toUpperCase();
}

export function payVia(app: FastifyInstance, t: RegisteredTerminal, body: { paymentId: string; cardNo: string; amount: number; pinBlock?: string }) {
  return app.inject({ method: 'POST', url: '/v1/payments', headers: t.headers, payload: body });
}

export async function purseOf(pool: Pool, cardNo: string): Promise<number> {
  const r = await pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0]?.balance ?? 0);
}

export async function expectBalanced(app: FastifyInstance): Promise<void> {
  const tb = await app.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
  expect(tb.json().balanced, tb.body).toBe(true);
}
