// Hole 4 of the security review: payment ids were global, so POS B could take POS A's ISO-derived
// id and A's real purchase then got 94 (and B's 409 told B that A had used it). A terminal's command
// ids are now its own (admin-token calls: their channel's); replays and 409/94 within one terminal
// are as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import { expectBalanced, payVia, purseOf } from './security-support.js';

let sys: TestSystem;
let posA: RegisteredTerminal;
let posB: RegisteredTerminal;
let client: IsoClient;

beforeAll(async () => {
  sys = await createTestSystem();
  posA = await retailPos(sys.http);
  posB = await retailPos(sys.http);
  client = await IsoClient.connect('127.0.0.1', (sys as unknown as { iso: { port: number } }).iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

const refund = (t: RegisteredTerminal, body: { refundId: string; paymentId: string; amount: number }) =>
  sys.http.inject({ method: 'POST', url: '/v1/refunds', headers: t.headers, payload: body });

describe('command ids are scoped to their terminal', () => {
  it("POS B squatting POS A's ISO-derived payment id does not stop A's purchase (00, not 94), nor learn anything", async () => {
    const { cardNo: victim } = await issueCard(sys.http, { balance: 10_000 });
    const { cardNo: own } = await issueCard(sys.http, { balance: 10_000 });
    const stan = '004711';
    const f7 = transmissionDateTime(new Date());
    const isoId = `${posA.terminalId}:${stan}:${f7}`;
    // B takes A's next id first, on its own card.
    expect((await payVia(sys.http, posB, { paymentId: isoId, cardNo: own, amount: 100 })).json()).toMatchObject({ approved: true, code: '00' });
    // A's real purchase with that STAN and F7 goes through.
    const fields = new Map<number, FieldValue>([
      [2, victim],
      [3, '000000'],
      [4, amountField(2500n)],
      [7, f7],
      [11, stan],
      [41, posA.terminalId],
      [42, merchantField('M0000000000001')],
      [49, '156'],
    ]);
    const answer = await client.request({ mti: '0200', fields }, Buffer.from(posA.mak, 'hex'));
    expect(fieldText(answer, 39)).toBe('00');
    // B's id is B's: a replay answers B's first result, other content is B's own 409.
    expect((await payVia(sys.http, posB, { paymentId: isoId, cardNo: own, amount: 100 })).json()).toMatchObject({ approved: true, balance: 9_900 });
    expect((await payVia(sys.http, posB, { paymentId: isoId, cardNo: victim, amount: 2500 })).statusCode).toBe(409);
    // B cannot refund or reverse A's purchase by its id: in B's namespace it is B's own payment.
    expect((await refund(posB, { refundId: 'steal-1', paymentId: isoId, amount: 2500 })).json()).toEqual({ approved: false, code: '13' });
    await sys.ledger.drain();
    expect(await purseOf(sys.pool, victim)).toBe(7_500);
    expect(await purseOf(sys.pool, own)).toBe(9_900);
    await expectBalanced(sys.http);
  });

  it('the same paymentId from two terminals on one card is two payments; refunds and reversals find their own', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const paymentId = 'shared-1';
    expect((await payVia(sys.http, posA, { paymentId, cardNo, amount: 1000 })).json()).toMatchObject({ approved: true, balance: 9_000 });
    expect((await payVia(sys.http, posB, { paymentId, cardNo, amount: 2000 })).json()).toMatchObject({ approved: true, balance: 7_000 });
    // Replays within each terminal answer that terminal's first result.
    expect((await payVia(sys.http, posA, { paymentId, cardNo, amount: 1000 })).json()).toMatchObject({ approved: true, balance: 9_000 });
    expect((await payVia(sys.http, posA, { paymentId, cardNo, amount: 2000 })).statusCode).toBe(409);
    // A's refund ids are A's too: the same refundId at B is B's own refund.
    expect((await refund(posA, { refundId: 'rf-1', paymentId, amount: 1000 })).json()).toMatchObject({ approved: true, balance: 8_000 });
    expect((await refund(posA, { refundId: 'rf-2', paymentId, amount: 1 })).json()).toEqual({ approved: false, code: '13' });
    expect((await refund(posB, { refundId: 'rf-1', paymentId, amount: 500 })).json()).toMatchObject({ approved: true, balance: 8_500 });
    const reversed = await sys.http.inject({ method: 'POST', url: `/v1/payments/${paymentId}/reverse`, headers: posB.headers, payload: {} });
    expect(reversed.json()).toEqual({ approved: true, code: '00', balance: 10_000 });
    const rows = await sys.pool.query(`SELECT op_scope, amount::int FROM transfers WHERE op_kind = 'payment' AND op_id = $1 ORDER BY amount`, [paymentId]);
    expect(rows.rows).toEqual([
      { op_scope: posA.terminalId, amount: 1000 },
      { op_scope: posB.terminalId, amount: 2000 },
    ]);
    expect(await purseOf(sys.pool, cardNo)).toBe(10_000);
    await expectBalanced(sys.http);
  });

  it('admin-token top-ups are scoped to their channel', async () => {
    const { cardNo } = await issueCard(sys.http);
    const topup = (channel: string, amount: number) =>
      sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: 'bank-ref-77', cardNo, amount, channel } });
    expect((await topup('bank', 500)).json()).toMatchObject({ approved: true, balance: 500 });
    expect((await topup('app', 300)).json()).toMatchObject({ approved: true, balance: 800 });
    expect((await topup('bank', 500)).json()).toMatchObject({ approved: true, balance: 500 }); // replay
    expect((await topup('bank', 501)).statusCode).toBe(409);
    expect(await purseOf(sys.pool, cardNo)).toBe(800);
    await expectBalanced(sys.http);
  });
});
