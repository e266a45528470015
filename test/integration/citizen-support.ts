// Helpers of the citizen-area tests: citizen login, rides (through POST /v1/taps when the transit
// area serves it, else a fare-like command with an explanation through the authorizer).
import { businessDateOf, businessDayBounds } from '../../src/domain/business-day.js';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { bearer, busValidator, metroGate, type RegisteredTerminal } from '../support/fixtures.js';
import type { TestSystem } from '../support/system.js';
import { requestHash } from '../../src/platform/hash.js';

export async function citizenLogin(app: FastifyInstance, cardNo: string, pin: string): Promise<{ authorization: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin } });
  expect(res.statusCode, res.body).toBe(200);
  return bearer(res.json().token as string);
}

export function hasTaps(sys: TestSystem): boolean {
  return sys.http.hasRoute({ method: 'POST', url: '/v1/taps' });
}

let rideSeq = 0;
const validators = new WeakMap<TestSystem, Map<string, RegisteredTerminal>>();

async function terminalFor(sys: TestSystem, key: string, make: () => Promise<RegisteredTerminal>): Promise<RegisteredTerminal> {
  let map = validators.get(sys);
  if (!map) validators.set(sys, (map = new Map()));
  let t = map.get(key);
  if (!t) map.set(key, (t = await make()));
  return t;
}

/** One paid bus ride on `routeId` (fare per the policy: B2 100, B906 200). Returns the charged fare. */
export async function busRide(sys: TestSystem, cardNo: string, routeId: string, at: Date = sys.clock.now()): Promise<number> {
  const id = `ride-${process.pid}-${++rideSeq}`;
  if (hasTaps(sys)) {
    // A validator per card and route keeps anti-passback (same card, same validator) out of the way.
    const t = await terminalFor(sys, `${routeId}:${cardNo}`, () => busValidator(sys.http, routeId));
    const res = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: t.headers, payload: { tapId: id, cardNo, tappedAt: at.toISOString() } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().approved, res.body).toBe(true);
    return res.json().fare as number;
  }
  const route = (sys.policy.bus as { routes: { routeId: string; fare: number; operatorId: string }[] }).routes.find((r) => r.routeId === routeId)!;
  const fare = BigInt(route.fare);
  const outcome = await sys.authorizer.execute({
    opKind: 'tap',
    opId: id,
    requestHash: requestHash({ id, cardNo }),
    cardNo,
    terminalId: null,
    businessDate: businessDateOf(at),
    gate: { type: 'debit', purseFen: fare, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: false },
    legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'receivable', ownerId: route.operatorId }, amountFen: fare }],
    detail: { routeId, fare: route.fare, explanation: [`bus route ${routeId} flat fare ${route.fare}`] },
    reply: (ids, purse) => ({ transactionId: ids[0]!.toString(), balance: purse.toString() }),
  });
  expect(outcome.kind).toBe('approved');
  return route.fare;
}

/** One metro journey from `from` to `to` (tap in, tap out at `at`). */
export async function metroRide(sys: TestSystem, cardNo: string, from: string, to: string, at: Date = sys.clock.now()): Promise<void> {
  const id = `metro-${process.pid}-${++rideSeq}`;
  if (hasTaps(sys)) {
    const gin = await terminalFor(sys, `gate:${from}`, () => metroGate(sys.http, from));
    const gout = await terminalFor(sys, `gate:${to}`, () => metroGate(sys.http, to));
    // In 20 minutes before `at`, out at `at` (a tap may not come from the future).
    // …but never before the business day of `at` starts (04:00 Shanghai), or the ride would
    // straddle two days and leave today's OD matrix.
    const inAt = new Date(Math.max(at.getTime() - 20 * 60_000, businessDayBounds(businessDateOf(at)).start.getTime()));
    const tin = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: gin.headers, payload: { tapId: `${id}-in`, cardNo, tappedAt: inAt.toISOString(), direction: 'in' } });
    expect(tin.json().approved, tin.body).toBe(true);
    const tout = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: gout.headers, payload: { tapId: `${id}-out`, cardNo, tappedAt: at.toISOString(), direction: 'out' } });
    expect(tout.json().approved, tout.body).toBe(true);
    return;
  }
  const outcome = await sys.authorizer.execute({
    opKind: 'tap',
    opId: id,
    requestHash: requestHash({ id, cardNo }),
    cardNo,
    terminalId: null,
    businessDate: businessDateOf(at),
    gate: { type: 'debit', purseFen: 300n, medicalFen: 0n, dailyAddFen: 0n, dailyMaxFen: 0n, allowDebt: false },
    legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'receivable', ownerId: 'ZZMETRO' }, amountFen: 300n }],
    detail: { entryStationId: from, exitStationId: to, journeyId: id, fare: 300, explanation: [`metro ${from} → ${to}: distance band fare 300`] },
    reply: (ids, purse) => ({ transactionId: ids[0]!.toString(), balance: purse.toString() }),
  });
  expect(outcome.kind).toBe('approved');
}

/** Every run of 16 or more digits in a text. */
export function longDigitRuns(text: string): string[] {
  return text.match(/\d{16,}/g) ?? [];
}
