// Registering parties through the real admin API, as a back office would.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { adminToken } from './system.js';

export const admin = { authorization: `Bearer ${adminToken}` };

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}


export interface RegisteredTerminal {
  terminalId: string;
  apiKey: string;
  mak: string;
  tpk: string;
  tmk: string;
  headers: { authorization: string };
}

export async function registerTerminal(app: FastifyInstance, body: Record<string, unknown>): Promise<RegisteredTerminal> {
  const res = await app.inject({ method: 'POST', url: '/v1/admin/terminals', headers: admin, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  const t = res.json() as Omit<RegisteredTerminal, 'headers'>;
  return { ...t, headers: bearer(t.apiKey) };
}

let terminalCounter = 0;
function terminalId(prefix: string): string {
  terminalCounter++;
  return `${prefix}${String(terminalCounter).padStart(8 - prefix.length, '0')}`;
}

export async function retailPos(app: FastifyInstance, merchantId = 'M0000000000001'): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalId('POS'), kind: 'pos', merchantId });
}

export async function medicalPos(app: FastifyInstance, merchantId = 'M0000000000101'): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalId('HSP'), kind: 'pos', merchantId });
}

export async function kiosk(app: FastifyInstance): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalId('KSK'), kind: 'kiosk' });
}

export async function busValidator(app: FastifyInstance, routeId = 'B2'): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalId('BUS'), kind: 'bus', operatorId: 'ZZBUS', routeId });
}

export async function metroGate(app: FastifyInstance, stationId: string): Promise<RegisteredTerminal> {
  return registerTerminal(app, { terminalId: terminalId('GTE'), kind: 'gate', operatorId: 'ZZMETRO', stationId });
}

let idSeq = 0;
/** A fresh 18-character resident id number. */
export function idNumber(): string {
  idSeq++;
  return `110101${String(Date.now() % 1e8).padStart(8, '0')}${String(idSeq % 1000).padStart(3, '0')}X`;
}

export async function issueCard(
  app: FastifyInstance,
  opts: { balance?: number; cardType?: string; pin?: string; insured?: boolean; medical?: number } = {},
): Promise<{ cardNo: string; citizenId: number }> {
  const citizen = await app.inject({ method: 'POST', url: '/v1/admin/citizens', headers: admin, payload: { name: 'Test Citizen', idNumber: idNumber(), insured: opts.insured ?? true } });
  expect(citizen.statusCode, citizen.body).toBe(201);
  const citizenId = citizen.json().citizenId as number;
  const card = await app.inject({
    method: 'POST',
    url: '/v1/admin/cards',
    headers: admin,
    payload: { citizenId, cardType: opts.cardType ?? 'adult', ...(opts.pin ? { pin: opts.pin } : {}) },
  });
  expect(card.statusCode, card.body).toBe(201);
  const cardNo = card.json().cardNo as string;
  if (opts.balance) {
    const topup = await app.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: `init-${cardNo}`, cardNo, amount: opts.balance, channel: 'bank' } });
    expect(topup.json().approved, topup.body).toBe(true);
  }
  if (opts.medical) {
    const credit = await app.inject({ method: 'POST', url: `/v1/admin/medical-accounts/${cardNo}/credit`, headers: admin, payload: { creditId: `init-${cardNo}`, amount: opts.medical } });
    expect(credit.json().approved, credit.body).toBe(true);
  }
  return { cardNo, citizenId };
}

/** A card's purse in fen, through the admin API. */
export async function purseOf(app: FastifyInstance, cardNo: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json().purse as number;
}

/** Whether the trial balance holds (every account sums to zero, every balance = its postings). */
export async function trialBalanced(app: FastifyInstance): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
  return res.json().balanced as boolean;
}
