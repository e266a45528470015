// Hole 5 of the security review: three wrong PIN blocks from any POS locked a card's PIN forever.
// The lock now ends after 24 hours (injected clock) or by an audited operator unlock, and a
// terminal that sends wrong PINs for more than 10 cards in an hour is refused PIN transactions (63).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { parsePaymentLimits, pinLockMs, pinTriesMax, terminalPinCardsMax } from '../../src/domain/payment-policy.js';
import { expectBalanced, payVia, pinBlockFor, purseOf } from './security-support.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

const clock = fixedClock(new Date('2026-12-02T03:00:00Z'));
let sys: TestSystem;
let pos: RegisteredTerminal;
let amount: number;
const pin = '135790';
let seq = 0;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  pos = await retailPos(sys.http);
  amount = Number(parsePaymentLimits(sys.policy.payments).noPinMaxFen) + 1;
});
afterAll(async () => sys.destroy());

const pay = (t: RegisteredTerminal, cardNo: string, pinText: string) =>
  payVia(sys.http, t, { paymentId: `pin-${++seq}`, cardNo, amount, pinBlock: pinBlockFor(pinText, cardNo, t) });

async function lockCard(cardNo: string): Promise<void> {
  const codes: string[] = [];
  for (let i = 0; i < pinTriesMax; i++) codes.push((await pay(pos, cardNo, '000000')).json().code);
  expect(codes).toEqual(['55', '55', '75']);
}

describe('the 3-try PIN lock ends', () => {
  it('after 24 hours by the injected clock, not before; nothing moves while locked', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    await lockCard(cardNo);
    expect((await pay(pos, cardNo, pin)).json()).toEqual({ approved: false, code: '75' });
    clock.advance(pinLockMs - 60_000);
    expect((await pay(pos, cardNo, pin)).json()).toEqual({ approved: false, code: '75' });
    expect(await purseOf(sys.pool, cardNo)).toBe(100_000);
    clock.advance(60_001);
    const ok = await pay(pos, cardNo, pin);
    expect(ok.json()).toMatchObject({ approved: true, code: '00', balance: 100_000 - amount });
    // The count started again: two wrong tries are 55, not 75.
    expect((await pay(pos, cardNo, '111111')).json().code).toBe('55');
    await sys.ledger.drain();
    expect(await purseOf(sys.pool, cardNo)).toBe(100_000 - amount);
    await expectBalanced(sys.http);
  });

  it('with POST /v1/admin/cards/:cardNo/pin-unlock (admin token), audited with who and when', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
    await lockCard(cardNo);
    const terminalTry = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/pin-unlock`, headers: pos.headers, payload: {} });
    expect(terminalTry.statusCode).toBe(403);
    const unlock = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/pin-unlock`, headers: admin, payload: { operator: 'ops.li' } });
    expect(unlock.statusCode, unlock.body).toBe(200);
    expect(unlock.json()).toEqual({ cardNo, pinLocked: false });
    const audit = await sys.pool.query(`SELECT operator, at FROM security_audit WHERE action = 'pin-unlock' AND subject = $1`, [cardNo]);
    expect(audit.rows).toEqual([{ operator: 'ops.li', at: clock.now() }]);
    expect((await pay(pos, cardNo, pin)).json()).toMatchObject({ approved: true, code: '00' });
    const unknown = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/6200000000000000/pin-unlock`, headers: admin, payload: {} });
    expect(unknown.statusCode).toBe(404);
    await expectBalanced(sys.http);
  });
});

describe('a terminal spraying wrong PINs', () => {
  it('after wrong PINs for more than 10 cards in an hour is refused PIN transactions (63) until cleared', async () => {
    const sprayer = await retailPos(sys.http);
    const cards: string[] = [];
    for (let i = 0; i <= terminalPinCardsMax; i++) cards.push((await issueCard(sys.http, { balance: 50_000, pin })).cardNo);
    for (const cardNo of cards) expect((await pay(sprayer, cardNo, '999999')).json().code).toBe('55');
    // The 11th card tipped it: every further PIN transaction from this terminal is 63, even a right PIN.
    const victim = (await issueCard(sys.http, { balance: 100_000, pin })).cardNo;
    expect((await pay(sprayer, victim, pin)).json()).toEqual({ approved: false, code: '63' });
    expect((await pay(sprayer, cards[0]!, pin)).json()).toEqual({ approved: false, code: '63' });
    // Refusals do not count tries on the card; other terminals are unaffected.
    expect(Number((await sys.pool.query(`SELECT pin_failures FROM cards WHERE card_no = $1`, [victim])).rows[0].pin_failures)).toBe(0);
    expect((await pay(pos, victim, pin)).json()).toMatchObject({ approved: true, code: '00' });
    // Payments without a PIN still work at the blocked terminal.
    expect((await payVia(sys.http, sprayer, { paymentId: `pin-${++seq}`, cardNo: victim, amount: 100 })).json().code).toBe('00');
    // Time alone does not clear it.
    clock.advance(2 * 3600_000);
    expect((await pay(sprayer, victim, pin)).json().code).toBe('63');
    const clear = await sys.http.inject({ method: 'POST', url: `/v1/admin/terminals/${sprayer.terminalId}/pin-clear`, headers: admin, payload: { operator: 'ops.wang' } });
    expect(clear.json()).toEqual({ terminalId: sprayer.terminalId, wasBlocked: true });
    const audit = await sys.pool.query(`SELECT operator FROM security_audit WHERE action = 'terminal-pin-clear' AND subject = $1`, [sprayer.terminalId]);
    expect(audit.rows).toEqual([{ operator: 'ops.wang' }]);
    expect((await pay(sprayer, victim, pin)).json()).toMatchObject({ approved: true, code: '00' });
    await sys.ledger.drain();
    for (const cardNo of cards) expect(await purseOf(sys.pool, cardNo)).toBe(50_000);
    expect(await purseOf(sys.pool, victim)).toBe(100_000 - 2 * amount - 100);
    await expectBalanced(sys.http);
  });

  it('wrong PINs for 10 cards do not block the terminal', async () => {
    const t = await retailPos(sys.http);
    for (let i = 0; i < terminalPinCardsMax; i++) {
      const { cardNo } = await issueCard(sys.http, { balance: 50_000, pin });
      expect((await pay(t, cardNo, '999999')).json().code).toBe('55');
    }
    const { cardNo } = await issueCard(sys.http, { balance: 50_000, pin });
    expect((await pay(t, cardNo, pin)).json().code).toBe('00');
  });
});

describe('over ISO 8583 (TCP)', () => {
  let stan = 300;
  const f7 = transmissionDateTime(new Date());
  async function purchase(client: IsoClient, t: RegisteredTerminal, cardNo: string, pinText: string): Promise<string> {
    const fields = new Map<number, FieldValue>([
      [2, cardNo],
      [3, '000000'],
      [4, amountField(BigInt(amount))],
      [7, f7],
      [11, String(++stan).padStart(6, '0')],
      [41, t.terminalId],
      [42, merchantField('M0000000000001')],
      [49, '156'],
      [52, encryptPinBlock(pinText, cardNo, Buffer.from(t.tpk, 'hex'))],
    ]);
    return fieldText(await client.request({ mti: '0200', fields }, Buffer.from(t.mak, 'hex')), 39) ?? '';
  }

  it('a POS spraying wrong PINs gets 63; a card locked over ISO is unlocked by the operator', async () => {
    const t = await retailPos(sys.http);
    const client = await IsoClient.connect('127.0.0.1', (sys as unknown as { iso: { port: number } }).iso.port);
    try {
      const { cardNo: locked } = await issueCard(sys.http, { balance: 100_000, pin });
      expect([await purchase(client, t, locked, '000001'), await purchase(client, t, locked, '000002'), await purchase(client, t, locked, '000003')]).toEqual(['55', '55', '75']);
      expect(await purchase(client, t, locked, pin)).toBe('75');
      expect((await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${locked}/pin-unlock`, headers: admin, payload: {} })).statusCode).toBe(200);
      expect(await purchase(client, t, locked, pin)).toBe('00');
      // The locked card was one; ten more make eleven cards with wrong PINs within the hour.
      for (let i = 0; i < terminalPinCardsMax; i++) {
        const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
        expect(await purchase(client, t, cardNo, '999999')).toBe('55');
      }
      const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin });
      expect(await purchase(client, t, cardNo, pin)).toBe('63');
      expect(await purseOf(sys.pool, cardNo)).toBe(100_000);
      await sys.ledger.drain();
      expect(await purseOf(sys.pool, locked)).toBe(100_000 - amount);
      await expectBalanced(sys.http);
    } finally {
      client.close();
    }
  });
});
