// Hole 7 of the security review: a reversal arriving while its payment was still in flight
// answered 25 and the card stayed charged. Now the reversal waits for the payment in flight and
// reverses it at once (00), or, when no payment has started, is remembered (25) and the payment
// arriving later is declined (12): either way the card ends up not charged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { expectBalanced, payVia, purseOf } from './security-support.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let seq = 0;
const id = (p: string) => `${p}-${++seq}`;

// Each commit waits this long for its batch to fill, so a payment stays in flight that long.
const batchWaitMs = 300;

beforeAll(async () => {
  sys = await createTestSystem({ env: { LEDGER_BATCH_WAIT_MS: String(batchWaitMs) } });
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

const reverse = (paymentId: string) => sys.http.inject({ method: 'POST', url: `/v1/payments/${paymentId}/reverse`, headers: pos.headers, payload: {} });

describe('a reversal racing its payment over HTTP', () => {
  it('arriving while the payment is in flight: waits, reverses it at once (00), the card is not charged', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const paymentId = id('inflight');
    const payment = payVia(sys.http, pos, { paymentId, cardNo, amount: 1200 });
    await new Promise((r) => setTimeout(r, batchWaitMs / 3));
    const reversal = await reverse(paymentId);
    expect((await payment).json()).toMatchObject({ approved: true, code: '00' });
    expect(reversal.json()).toEqual({ approved: true, code: '00', balance: 5000 });
    expect(await purseOf(sys.pool, cardNo)).toBe(5000);
    // Replays of both keep their answers; nothing more moves.
    expect((await reverse(paymentId)).json()).toEqual(reversal.json());
    expect(await purseOf(sys.pool, cardNo)).toBe(5000);
    await expectBalanced(sys.http);
  });

  it('arriving before the payment: remembered (25); the late payment and its retries are declined 12; nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const paymentId = id('early');
    expect((await reverse(paymentId)).json()).toEqual({ approved: false, code: '25' });
    expect((await payVia(sys.http, pos, { paymentId, cardNo, amount: 1200 })).json()).toEqual({ approved: false, code: '12' });
    expect((await payVia(sys.http, pos, { paymentId, cardNo, amount: 1200 })).json()).toEqual({ approved: false, code: '12' });
    expect((await reverse(paymentId)).json()).toEqual({ approved: false, code: '25' });
    expect(await purseOf(sys.pool, cardNo)).toBe(5000);
    // Other payment ids are unaffected.
    expect((await payVia(sys.http, pos, { paymentId: id('other'), cardNo, amount: 100 })).json().approved).toBe(true);
    await expectBalanced(sys.http);
  });

  it('a payment in flight that is declined (51): the reversal answers 25 at once, nothing moved', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100 });
    const paymentId = id('declined');
    const payment = payVia(sys.http, pos, { paymentId, cardNo, amount: 1200 });
    const reversal = reverse(paymentId);
    // Whichever came first, nothing moves: 51 if the payment was decided first, else 12.
    expect(['51', '12']).toContain((await payment).json().code);
    expect((await reversal).json()).toEqual({ approved: false, code: '25' });
    expect(await purseOf(sys.pool, cardNo)).toBe(100);
  });

  it('a reversal from another terminal cannot block a payment by its id', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const other = await retailPos(sys.http);
    const paymentId = id('squat');
    const squat = await sys.http.inject({ method: 'POST', url: `/v1/payments/${paymentId}/reverse`, headers: other.headers, payload: {} });
    expect(squat.json()).toEqual({ approved: false, code: '25' });
    expect((await payVia(sys.http, pos, { paymentId, cardNo, amount: 700 })).json()).toMatchObject({ approved: true, code: '00', balance: 4300 });
    await expectBalanced(sys.http);
  });
});
