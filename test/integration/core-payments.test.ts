// Payments, reversals and refunds through the authorization core against real PostgreSQL and Redis
// (issue: authorization core, acceptance 1): limits, PIN, card status, expiry, debt, idempotency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, busValidator, issueCard, kiosk, medicalPos, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';
import { parsePaymentLimits, pinTriesMax } from '../../src/domain/payment-policy.js';
import { businessDateOf } from '../../src/domain/business-day.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let limits: { perTransactionMax: number; dailyMax: number; noPinMax: number };

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  const parsed = parsePaymentLimits(sys.policy.payments);
  limits = { perTransactionMax: Number(parsed.perTransactionMaxFen), dailyMax: Number(parsed.dailyMaxFen), noPinMax: Number(parsed.noPinMaxFen) };
});
afterAll(async () => sys.destroy());

let seq = 0;
const nextId = (prefix: string) => `${prefix}-${++seq}`;

function pay(t: RegisteredTerminal, body: { paymentId?: string; cardNo: string; amount: number; pinBlock?: string }) {
  return sys.http.inject({ method: 'POST', url: '/v1/payments', headers: t.headers, payload: { paymentId: body.paymentId ?? nextId('pay'), ...body } });
}

function reverse(t: RegisteredTerminal, paymentId: string) {
  return sys.http.inject({ method: 'POST', url: `/v1/payments/${paymentId}/reverse`, headers: t.headers, payload: {} });
}

function refund(t: RegisteredTerminal, body: { refundId: string; paymentId: string; amount: number }) {
  return sys.http.inject({ method: 'POST', url: '/v1/refunds', headers: t.headers, payload: body });
}

function pinBlock(pin: string, cardNo: string, t: RegisteredTerminal): string {
  return encryptPinBlock(pin, cardNo, Buffer.from(t.tpk, 'hex')).toString('hex').toUpperCase();
}

async function topup(cardNo: string, amount: number): Promise<void> {
  const res = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: nextId('top'), cardNo, amount, channel: 'bank' } });
  expect(res.json().approved, res.body).toBe(true);
}

async function pgPurse(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return Number(r.rows[0]?.balance ?? 0);
}

async function redisPurse(cardNo: string): Promise<number | null> {
  const pu = await sys.redis.hget(sys.keys.cardState(cardNo), 'pu');
  return pu === null ? null : Number(pu);
}

async function transfers(opKind: string, opId: string): Promise<{ transfer_id: string; amount: string }[]> {
  const r = await sys.pool.query(`SELECT transfer_id::text, amount::text FROM transfers WHERE op_kind = $1 AND op_id = $2`, [opKind, opId]);
  return r.rows;
}

/** Redis and PostgreSQL agree on the card once the writer has drained. */
async function expectConsistent(cardNo: string, purse: number): Promise<void> {
  await sys.ledger.drain();
  expect(await pgPurse(cardNo)).toBe(purse);
  const cached = await redisPurse(cardNo);
  if (cached !== null) expect(cached).toBe(purse);
}

describe('approve path', () => {
  it('approves, answers balance, authCode and transactionId, and writes one transfer', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const res = await pay(pos, { paymentId: 'ok-1', cardNo, amount: 1234 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ approved: true, code: '00', balance: 3766 });
    expect(body.authCode).toMatch(/^\d{6}$/);
    const rows = await transfers('payment', 'ok-1');
    expect(rows).toHaveLength(1);
    expect(body.transactionId).toBe(rows[0]!.transfer_id);
    expect(rows[0]!.amount).toBe('1234');
    await expectConsistent(cardNo, 3766);
    // The merchant's payable got the money.
    const payable = await sys.pool.query(`SELECT balance FROM accounts WHERE kind = 'payable' AND owner_id = 'M0000000000001'`);
    expect(Number(payable.rows[0].balance)).toBeGreaterThanOrEqual(1234);
  });

  it('replays the same answer for the same paymentId and moves nothing more; 409 for other content', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const first = await pay(pos, { paymentId: 'ok-2', cardNo, amount: 100 });
    const again = await pay(pos, { paymentId: 'ok-2', cardNo, amount: 100 });
    expect(again.json()).toEqual(first.json());
    const other = await pay(pos, { paymentId: 'ok-2', cardNo, amount: 101 });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('94');
    expect(await transfers('payment', 'ok-2')).toHaveLength(1);
    await expectConsistent(cardNo, 4900);
  });

  it('a replay after the Redis record is lost answers the first approval, not a decline from the card’s state now', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 500 });
    const body = { paymentId: nextId('lost'), cardNo, amount: 500 };
    const first = await pay(pos, body);
    expect(first.json()).toMatchObject({ approved: true, balance: 0 });
    await sys.redis.del(sys.keys.cardOp(cardNo, 'payment', `${pos.terminalId}/${body.paymentId}`)); // ids are scoped to the terminal (DESIGN §11)
    expect((await pay(pos, body)).json()).toEqual(first.json()); // balance is 0 now: the gate alone would say 51
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'blocked' } });
    await sys.redis.del(sys.keys.cardOp(cardNo, 'payment', `${pos.terminalId}/${body.paymentId}`)); // ids are scoped to the terminal (DESIGN §11)
    expect((await pay(pos, body)).json()).toEqual(first.json()); // blocked now: the gate alone would say 43
    const other = await pay(pos, { ...body, amount: 499 });
    expect(other.statusCode).toBe(409);
    expect(await transfers('payment', body.paymentId)).toHaveLength(1);
    await expectConsistent(cardNo, 0);
  });

  it('a medical-category POS may take a payment', async () => {
    const hospital = await medicalPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const res = await pay(hospital, { cardNo, amount: 400 });
    expect(res.json()).toMatchObject({ approved: true, code: '00', balance: 600 });
  });

  it('a bus validator or a kiosk may not take a payment → 58, nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const bus = await busValidator(sys.http);
    expect((await pay(bus, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '58' });
    const k = await kiosk(sys.http);
    expect((await pay(k, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '58' });
    await expectConsistent(cardNo, 1000);
  });
});

describe('limits from the policy payments section', () => {
  it('above the per-transaction maximum → 13', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const res = await pay(pos, { cardNo, amount: limits.perTransactionMax + 1 });
    expect(res.json()).toEqual({ approved: false, code: '13' });
    await expectConsistent(cardNo, 1000);
  });

  it('the daily maximum holds across several payments → 61; a reversal frees its share; a reload keeps the count', async () => {
    const { cardNo } = await issueCard(sys.http);
    const perPayment = Math.floor((limits.noPinMax * 4) / 5); // no PIN needed, also for perPayment + 1
    const count = Math.floor(limits.dailyMax / perPayment);
    expect(count).toBeGreaterThan(1);
    let funds = limits.dailyMax + 10_000;
    while (funds > 0) {
      const amount = Math.min(funds, Number(sys.config.topupAmountMaxFen));
      await topup(cardNo, amount);
      funds -= amount;
    }
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = nextId('daily');
      ids.push(id);
      expect((await pay(pos, { paymentId: id, cardNo, amount: perPayment })).json().code).toBe('00');
    }
    const room = limits.dailyMax - count * perPayment;
    expect((await pay(pos, { cardNo, amount: room + 1 })).json()).toEqual({ approved: false, code: '61' });
    if (room > 0) expect((await pay(pos, { cardNo, amount: room })).json().code).toBe('00');
    expect((await pay(pos, { cardNo, amount: 1 })).json().code).toBe('61');

    // The cached counter is rebuilt from the ledger when the card's Redis state is dropped.
    await sys.ledger.drain();
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 1 })).json().code).toBe('61');

    // A reversal today gives the payment's share of the limit back.
    expect((await reverse(pos, ids[0]!)).json().approved).toBe(true);
    expect((await pay(pos, { cardNo, amount: perPayment + 1 })).json().code).toBe('61');
    expect((await pay(pos, { cardNo, amount: perPayment })).json().code).toBe('00');
    await sys.ledger.drain();
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 1 })).json().code).toBe('61');
    await expectConsistent(cardNo, 10_000);
  });
});

describe('PIN above noPinMax', () => {
  const pin = '246810';
  const pinFailures = async (cardNo: string) => Number((await sys.pool.query(`SELECT pin_failures FROM cards WHERE card_no = $1`, [cardNo])).rows[0].pin_failures);

  it('a payment up to noPinMax needs no PIN', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: limits.noPinMax, pin });
    expect((await pay(pos, { cardNo, amount: limits.noPinMax })).json()).toMatchObject({ approved: true, balance: 0 });
  });

  it('a right PIN approves; a missing PIN block → 55 without using up a try', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    const amount = limits.noPinMax + 1;
    expect((await pay(pos, { cardNo, amount })).json()).toEqual({ approved: false, code: '55' });
    expect(await pinFailures(cardNo)).toBe(0);
    const ok = await pay(pos, { cardNo, amount, pinBlock: pinBlock(pin, cardNo, pos) });
    expect(ok.json()).toMatchObject({ approved: true, code: '00', balance: 100_000 - amount });
  });

  it('wrong PIN → 55; a right PIN resets the count', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    const amount = limits.noPinMax + 100;
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock('111111', cardNo, pos) })).json()).toEqual({ approved: false, code: '55' });
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock('222222', cardNo, pos) })).json()).toEqual({ approved: false, code: '55' });
    expect(await pinFailures(cardNo)).toBe(2);
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock(pin, cardNo, pos) })).json().approved).toBe(true);
    expect(await pinFailures(cardNo)).toBe(0);
    // A block under another terminal's PIN key does not reveal the PIN.
    const other = await retailPos(sys.http);
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock(pin, cardNo, other) })).json().code).toBe('55');
    await expectConsistent(cardNo, 100_000 - amount);
  });

  it('the third wrong try → 75, and it stays 75 even with the right PIN; nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    const amount = limits.noPinMax + 1;
    const codes: string[] = [];
    for (let i = 0; i < pinTriesMax; i++) codes.push((await pay(pos, { cardNo, amount, pinBlock: pinBlock('000000', cardNo, pos) })).json().code);
    expect(codes).toEqual(['55', '55', '75']);
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock(pin, cardNo, pos) })).json()).toEqual({ approved: false, code: '75' });
    expect((await pay(pos, { cardNo, amount, pinBlock: pinBlock(pin, cardNo, pos) })).json().code).toBe('75');
    // Payments that need no PIN still work.
    expect((await pay(pos, { cardNo, amount: 100 })).json().approved).toBe(true);
    await expectConsistent(cardNo, 100_000 - 100);
  });

  it('concurrent wrong PINs cannot get more than the allowed tries', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    const amount = limits.noPinMax + 1;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pay(pos, { cardNo, amount, pinBlock: pinBlock(String(100000 + i), cardNo, pos) })),
    );
    const codes = answers.map((a) => a.json().code as string).sort();
    expect(codes.filter((c) => c === '55')).toHaveLength(pinTriesMax - 1);
    expect(codes.filter((c) => c === '75')).toHaveLength(8 - (pinTriesMax - 1));
    expect(await pinFailures(cardNo)).toBe(pinTriesMax);
  });

  it('a replay of an approved PIN payment answers the first result, even after the PIN got locked', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    const amount = limits.noPinMax + 1;
    const body = { paymentId: nextId('pinpay'), cardNo, amount, pinBlock: pinBlock(pin, cardNo, pos) };
    const first = await pay(pos, body);
    expect(first.json().approved).toBe(true);
    for (let i = 0; i < pinTriesMax; i++) await pay(pos, { cardNo, amount, pinBlock: pinBlock('999999', cardNo, pos) });
    expect(await pinFailures(cardNo)).toBe(pinTriesMax);
    expect((await pay(pos, body)).json()).toEqual(first.json());
    expect(await pinFailures(cardNo)).toBe(pinTriesMax);
    expect(await transfers('payment', body.paymentId)).toHaveLength(1);
  });
});

describe('card status, expiry, funds and debt', () => {
  const setStatus = (cardNo: string, status: string) =>
    sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status } });

  it('lost → 41, blocked → 43, active again → approved', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    expect((await setStatus(cardNo, 'lost')).statusCode).toBe(200);
    expect((await pay(pos, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '41' });
    expect((await setStatus(cardNo, 'blocked')).statusCode).toBe(200);
    expect((await pay(pos, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '43' });
    // Also when the state is rebuilt from PostgreSQL.
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '43' });
    expect((await setStatus(cardNo, 'active')).statusCode).toBe(200);
    expect((await pay(pos, { cardNo, amount: 100 })).json()).toMatchObject({ approved: true, balance: 900 });
    await expectConsistent(cardNo, 900);
  });

  it('expired → 54', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    await sys.pool.query(`UPDATE cards SET expires_on = $2 WHERE card_no = $1`, [cardNo, '2020-01-31']);
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 100 })).json()).toEqual({ approved: false, code: '54' });
    // A card expiring today is still valid today.
    await sys.pool.query(`UPDATE cards SET expires_on = $2 WHERE card_no = $1`, [cardNo, businessDateOf(new Date())]);
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 100 })).json().approved).toBe(true);
  });

  it('insufficient funds → 51, nothing moves; the exact balance is approved', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 500 });
    expect((await pay(pos, { cardNo, amount: 501 })).json()).toEqual({ approved: false, code: '51' });
    await expectConsistent(cardNo, 500);
    expect((await pay(pos, { cardNo, amount: 500 })).json()).toMatchObject({ approved: true, balance: 0 });
    expect((await pay(pos, { cardNo, amount: 1 })).json().code).toBe('51');
    await expectConsistent(cardNo, 0);
  });

  it('a card in debt → 51 until topped up above zero', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 500 });
    await sys.ledger.submit({
      opKind: 'adjustment',
      opId: nextId('debt'),
      requestHash: 'test-debt',
      cardNo,
      businessDate: businessDateOf(new Date()),
      legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'suspense', ownerId: '' }, amountFen: 700n }],
    });
    await sys.gate.forget(cardNo);
    expect((await pay(pos, { cardNo, amount: 1 })).json()).toEqual({ approved: false, code: '51' });
    expect(await redisPurse(cardNo)).toBe(-200);
    await topup(cardNo, 150);
    expect((await pay(pos, { cardNo, amount: 1 })).json().code).toBe('51');
    await topup(cardNo, 100);
    expect((await pay(pos, { cardNo, amount: 50 })).json()).toMatchObject({ approved: true, balance: 0 });
    await expectConsistent(cardNo, 0);
  });

  it('unknown card → 14', async () => {
    expect((await pay(pos, { cardNo: '6200999999999995', amount: 100 })).json()).toEqual({ approved: false, code: '14' });
  });
});

describe('reversal', () => {
  it('restores the balance, is idempotent, and answers from the ledger after the Redis record is lost', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('rev');
    expect((await pay(pos, { paymentId, cardNo, amount: 300 })).json().balance).toBe(700);
    const first = await reverse(pos, paymentId);
    expect(first.json()).toEqual({ approved: true, code: '00', balance: 1000 });
    expect((await reverse(pos, paymentId)).json()).toEqual(first.json());
    await sys.redis.del(sys.keys.cardOp(cardNo, 'payment-reversal', `${pos.terminalId}/${paymentId}`));
    expect((await reverse(pos, paymentId)).json()).toEqual(first.json());
    expect(await transfers('payment-reversal', paymentId)).toHaveLength(1);
    await expectConsistent(cardNo, 1000);
  });

  it('concurrent reversals of one payment move money once', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('rev');
    await pay(pos, { paymentId, cardNo, amount: 400 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => reverse(pos, paymentId)));
    for (const a of answers) expect(a.json()).toEqual({ approved: true, code: '00', balance: 1000 });
    expect(await transfers('payment-reversal', paymentId)).toHaveLength(1);
    await expectConsistent(cardNo, 1000);
  });

  it('unknown payment → 25; another merchant’s terminal → 25; nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('rev');
    await pay(pos, { paymentId, cardNo, amount: 300 });
    expect((await reverse(pos, 'no-such-payment')).json()).toEqual({ approved: false, code: '25' });
    const elsewhere = await retailPos(sys.http, 'M0000000000002');
    expect((await reverse(elsewhere, paymentId)).json()).toEqual({ approved: false, code: '25' });
    await expectConsistent(cardNo, 700);
  });

  it('a reversal of a lost card’s payment still returns the money', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('rev');
    await pay(pos, { paymentId, cardNo, amount: 250 });
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    expect((await reverse(pos, paymentId)).json()).toEqual({ approved: true, code: '00', balance: 1000 });
  });
});

describe('daily counter after refunds and reversals', () => {
  it('the cached counter equals the one rebuilt from the ledger', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const paymentId = nextId('cnt');
    await pay(pos, { paymentId, cardNo, amount: 1000 });
    await pay(pos, { cardNo, amount: 700 });
    await refund(pos, { refundId: `${paymentId}-r`, paymentId, amount: 300 });
    expect((await reverse(pos, paymentId)).json().approved).toBe(true);
    const cached = await sys.redis.hget(sys.keys.cardState(cardNo), 'ps');
    await sys.ledger.drain();
    await sys.gate.forget(cardNo);
    await topup(cardNo, 1); // reloads the card from PostgreSQL
    expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'ps')).toBe(cached);
  });
});

describe('refunds', () => {
  it('partial refunds up to the payment; more → 13; idempotent by refundId; 409 on other content', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    const paymentId = nextId('ref');
    await pay(pos, { paymentId, cardNo, amount: 1000 });
    const r1 = await refund(pos, { refundId: `${paymentId}-r1`, paymentId, amount: 300 });
    expect(r1.json()).toMatchObject({ approved: true, code: '00', balance: 1300 });
    expect(r1.json().transactionId).toBe((await transfers('refund', `${paymentId}-r1`))[0]!.transfer_id);
    expect((await refund(pos, { refundId: `${paymentId}-r2`, paymentId, amount: 701 })).json()).toEqual({ approved: false, code: '13' });
    expect((await refund(pos, { refundId: `${paymentId}-r3`, paymentId, amount: 700 })).json()).toMatchObject({ approved: true, balance: 2000 });
    expect((await refund(pos, { refundId: `${paymentId}-r4`, paymentId, amount: 1 })).json()).toEqual({ approved: false, code: '13' });
    // Replays answer the first result and move nothing.
    expect((await refund(pos, { refundId: `${paymentId}-r1`, paymentId, amount: 300 })).json()).toEqual(r1.json());
    const conflict = await refund(pos, { refundId: `${paymentId}-r1`, paymentId, amount: 200 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('94');
    expect(await transfers('refund', `${paymentId}-r1`)).toHaveLength(1);
    await expectConsistent(cardNo, 2000);
  });

  it('concurrent refunds of one payment never exceed it', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('ref');
    await pay(pos, { paymentId, cardNo, amount: 1000 });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => refund(pos, { refundId: `${paymentId}-c${i}`, paymentId, amount: 300 })));
    expect(answers.filter((a) => a.json().approved === true)).toHaveLength(3);
    expect(answers.filter((a) => a.json().code === '13')).toHaveLength(3);
    await expectConsistent(cardNo, 900);
  });

  it('after a partial refund a reversal returns the rest; a refund after the reversal → 12; unknown → 25', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const paymentId = nextId('ref');
    await pay(pos, { paymentId, cardNo, amount: 800 });
    await refund(pos, { refundId: `${paymentId}-a`, paymentId, amount: 200 });
    expect((await reverse(pos, paymentId)).json()).toEqual({ approved: true, code: '00', balance: 1000 });
    expect((await transfers('payment-reversal', paymentId))[0]!.amount).toBe('600');
    expect((await refund(pos, { refundId: `${paymentId}-b`, paymentId, amount: 1 })).json()).toEqual({ approved: false, code: '12' });
    expect((await refund(pos, { refundId: `${paymentId}-c`, paymentId: 'no-such-payment', amount: 1 })).json()).toEqual({ approved: false, code: '25' });
    await expectConsistent(cardNo, 1000);
    const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
  });
});
