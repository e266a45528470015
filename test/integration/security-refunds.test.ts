// The refundable-remainder hold (refund-reserve.lua) is money-safe on a crash: a hold lost by a
// process that died before its commit only refuses, and a missing hold key is rebuilt from the
// ledger, so neither can give back more than the payment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { RefundHolds } from '../../src/adapters/redis/refund-holds.js';
import { expectBalanced, payVia, purseOf } from './security-support.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let seq = 0;
const id = (p: string) => `${p}-${++seq}`;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

const refund = (paymentId: string, amount: number, refundId = id('r')) =>
  sys.http.inject({ method: 'POST', url: '/v1/refunds', headers: pos.headers, payload: { refundId, paymentId, amount } });

async function paid(cardNo: string): Promise<string> {
  const paymentId = id('p');
  expect((await payVia(sys.http, pos, { paymentId, cardNo, amount: 1000 })).json().approved).toBe(true);
  return paymentId;
}

describe('refund holds', () => {
  it('a missing hold key (flush, expiry) is rebuilt from the ledger: no refund beyond the payment', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = await paid(cardNo);
    expect((await refund(paymentId, 400)).json().code).toBe('00');
    await sys.redis.del(sys.keys.cardRefunds(cardNo, `${pos.terminalId}/${paymentId}`));
    expect((await refund(paymentId, 700)).json()).toEqual({ approved: false, code: '13' });
    expect((await refund(paymentId, 600)).json().code).toBe('00');
    await sys.redis.del(sys.keys.cardRefunds(cardNo, `${pos.terminalId}/${paymentId}`));
    expect((await sys.http.inject({ method: 'POST', url: `/v1/payments/${paymentId}/reverse`, headers: pos.headers, payload: {} })).json()).toEqual({ approved: false, code: '12' });
    expect(await purseOf(sys.pool, cardNo)).toBe(1000);
    await expectBalanced(sys.http);
  });

  it('a hold left by a process that died before its commit only refuses; dropping the key rebuilds it', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = await paid(cardNo);
    const holds = new RefundHolds(sys.redis, sys.keys);
    const orphan = await holds.refund({ cardNo, paymentId: `${pos.terminalId}/${paymentId}`, refundId: 'died-before-commit', amountFen: 500n, paymentFen: 1000n, ledgerRefundedFen: 0n, ledgerReversedFen: 0n });
    expect(orphan).toEqual({ kind: 'held', amountFen: 500n, fresh: true });
    expect((await refund(paymentId, 600)).json()).toEqual({ approved: false, code: '13' });
    expect(await purseOf(sys.pool, cardNo)).toBe(0);
    await sys.redis.del(sys.keys.cardRefunds(cardNo, `${pos.terminalId}/${paymentId}`));
    expect((await refund(paymentId, 600)).json().code).toBe('00');
    expect((await refund(paymentId, 401)).json().code).toBe('13');
    expect(await purseOf(sys.pool, cardNo)).toBe(600);
    await expectBalanced(sys.http);
  });

  it('a declined refund gives its hold back; a replay of an approved refund does not hold twice', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = await paid(cardNo);
    const refundId = id('r');
    const first = await refund(paymentId, 700, refundId);
    expect(first.json().code).toBe('00');
    expect((await refund(paymentId, 700, refundId)).json()).toEqual(first.json());
    // Same id, other content: 409, and its attempt holds nothing.
    expect((await refund(paymentId, 300, refundId)).statusCode).toBe(409);
    expect((await refund(paymentId, 300)).json().code).toBe('00');
    expect(await purseOf(sys.pool, cardNo)).toBe(1000);
    await expectBalanced(sys.http);
  });
});
