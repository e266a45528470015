// The ISO 8583 gateway over real TCP against real PostgreSQL and Redis (issue: ISO 8583 gateway):
// purchases, MAC, declines, balance inquiry, reversal, refund, top-up, duplicates, offline advice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, medicalPos, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { PosTerminal } from '../../terminals/pos/terminal.js';
import { encodeMessage, encodeMessageWithMac, fieldText, macInput, macOf, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { retailMac, verifyMac } from '../../src/adapters/iso8583/mac.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';
import { amountField, formatOriginalData, merchantField, parseBalances, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import { buildIsoGateway } from '../../src/wiring/iso.js';

let sys: TestSystem;
let client: IsoClient;
let pos: RegisteredTerminal;
let stanSeq = 100;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  client = await IsoClient.connect('127.0.0.1', sys.iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

const nextStan = () => String(++stanSeq).padStart(6, '0');
const f7 = transmissionDateTime(new Date());

async function purse(cardNo: string): Promise<number> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json().purse as number;
}

async function transfers(cardNo: string): Promise<number> {
  const r = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1`, [cardNo]);
  return r.rows[0].n as number;
}

function request(t: RegisteredTerminal, mti: string, entries: [number, FieldValue][], merchantId = 'M0000000000001'): Map<number, FieldValue> {
  return new Map<number, FieldValue>([
    [7, f7],
    [11, nextStan()],
    [41, t.terminalId],
    [42, merchantField(merchantId)],
    [49, '156'],
    ...entries,
  ]);
}

const purchaseFields = (cardNo: string, amount: number): [number, FieldValue][] => [
  [2, cardNo],
  [3, '000000'],
  [4, amountField(BigInt(amount))],
];

async function send(mti: string, fields: Map<number, FieldValue>, mak: string | null = pos.mak): Promise<IsoMessage> {
  return client.request({ mti, fields }, mak ? Buffer.from(mak, 'hex') : undefined);
}

const code = (m: IsoMessage) => fieldText(m, 39);

function answerMacOk(m: IsoMessage, mak: string): boolean {
  const raw = encodeMessage(m);
  return verifyMac(Buffer.from(mak, 'hex'), macInput(raw), macOf(raw));
}

describe('0200 purchase', () => {
  it('approves, echoes the request, adds 38 and 54, MACs the answer, and debits the purse', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const fields = request(pos, '0200', [...purchaseFields(cardNo, 1250), [12, '101500'], [13, '0101'], [22, '071'], [25, '00'], [32, '12345678'], [37, 'RRN000000001']]);
    const res = await send('0200', fields);
    expect(res.mti).toBe('0210');
    expect(code(res)).toBe('00');
    for (const no of [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49]) expect(fieldText(res, no), `field ${no}`).toBe(fields.get(no));
    expect(fieldText(res, 38)).toMatch(/^[0-9A-Za-z]{6}$/);
    expect(fieldText(res, 54)).toBe('1002156C000000003750');
    expect(answerMacOk(res, pos.mak)).toBe(true);
    expect(await purse(cardNo)).toBe(3750);
  });

  it('gives an RRN when the request had none', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 500 });
    const res = await send('0200', request(pos, '0200', purchaseFields(cardNo, 100)));
    expect(code(res)).toBe('00');
    expect(fieldText(res, 37)).toMatch(/^\d{12}$/);
  });

  it('wrong or missing MAC → 63 and nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const wrong = await send('0200', request(pos, '0200', purchaseFields(cardNo, 100)), '0123456789abcdeffedcba9876543210');
    expect(code(wrong)).toBe('63');
    const missing = await send('0200', request(pos, '0200', purchaseFields(cardNo, 100)), null);
    expect(code(missing)).toBe('63');
    // A MAC over other bytes (the amount changed after MACing): also 63.
    const fields = request(pos, '0200', purchaseFields(cardNo, 100));
    const good = encodeMessageWithMac({ mti: '0200', fields }, (input) => retailMac(Buffer.from(pos.mak, 'hex'), input));
    const tampered = Buffer.from(good);
    tampered.write('000000009999', good.indexOf('000000000100'), 'latin1');
    const res = await client.requestBytes(tampered, fields.get(11) as string);
    expect(code(res)).toBe('63');
    expect(await purse(cardNo)).toBe(5000);
    expect(await transfers(cardNo)).toBe(1);
  });

  it('insufficient funds → 51, nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 300 });
    const res = await send('0200', request(pos, '0200', purchaseFields(cardNo, 301)));
    expect(code(res)).toBe('51');
    expect(fieldText(res, 38)).toBeUndefined();
    expect(await purse(cardNo)).toBe(300);
  });

  it('unknown terminal → 58 unMACed; a non-POS terminal or another merchant in F42 → 58', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const ghost = { ...pos, terminalId: 'NOSUCH01' };
    const unknown = await send('0200', request(ghost, '0200', purchaseFields(cardNo, 100)));
    expect(code(unknown)).toBe('58');
    expect(unknown.fields.has(64)).toBe(false);
    const k = await kiosk(sys.http);
    expect(code(await send('0200', request(k, '0200', purchaseFields(cardNo, 100)), k.mak))).toBe('58');
    expect(code(await send('0200', request(pos, '0200', purchaseFields(cardNo, 100), 'M0000000000002')))).toBe('58');
    expect(await purse(cardNo)).toBe(1000);
  });

  it('above the no-PIN maximum needs the PIN in F52 (under the PIN key): right → 00, wrong → 55', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin: '246810' });
    const tpk = Buffer.from(pos.tpk, 'hex');
    const noPin = await send('0200', request(pos, '0200', purchaseFields(cardNo, 40_000)));
    expect(code(noPin)).toBe('55');
    const wrong = await send('0200', request(pos, '0200', [...purchaseFields(cardNo, 40_000), [52, encryptPinBlock('135790', cardNo, tpk)]]));
    expect(code(wrong)).toBe('55');
    const right = await send('0200', request(pos, '0200', [...purchaseFields(cardNo, 40_000), [52, encryptPinBlock('246810', cardNo, tpk)]]));
    expect(code(right)).toBe('00');
    expect(await purse(cardNo)).toBe(60_000);
  });
});

describe('0200 balance inquiry, top-up, refund', () => {
  it('balance inquiry answers F54 with the purse (10); at a medical merchant also the medical account (20)', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 12_345, medical: 800 });
    const res = await send('0200', request(pos, '0200', [[2, cardNo], [3, '310000']]));
    expect(code(res)).toBe('00');
    expect(fieldText(res, 54)).toBe('1002156C000000012345');
    const hospital = await medicalPos(sys.http);
    const atHospital = await send('0200', request(hospital, '0200', [[2, cardNo], [3, '310000']], 'M0000000000101'), hospital.mak);
    expect(fieldText(atHospital, 54)).toBe('1002156C000000012345' + '2002156C000000000800');
    expect(parseBalances(fieldText(atHospital, 54)!).map((e) => e.amountFen)).toEqual([12_345n, 800n]);
  });

  it('balance inquiry of an unknown card → 14', async () => {
    const res = await send('0200', request(pos, '0200', [[2, '6200999999999995'], [3, '310000']]));
    expect(code(res)).toBe('14');
  });

  it('top-up (210000) credits the purse through the counter channel; a medical POS may not → 58', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100 });
    const res = await send('0200', request(pos, '0200', [[2, cardNo], [3, '210000'], [4, amountField(2000n)]]));
    expect(code(res)).toBe('00');
    expect(fieldText(res, 54)).toBe('1002156C000000002100');
    const hospital = await medicalPos(sys.http);
    const refused = await send('0200', request(hospital, '0200', [[2, cardNo], [3, '210000'], [4, amountField(2000n)]], 'M0000000000101'), hospital.mak);
    expect(code(refused)).toBe('58');
    expect(await purse(cardNo)).toBe(2100);
  });

  it('refund (200000) names its purchase by RRN in F37; partial, then over the remainder → 13; unknown RRN → 25', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const bought = await send('0200', request(pos, '0200', purchaseFields(cardNo, 3000)));
    const rrn = fieldText(bought, 37)!;
    const refund = await send('0200', request(pos, '0200', [[3, '200000'], [4, amountField(1000n)], [37, rrn]]));
    expect(code(refund)).toBe('00');
    expect(fieldText(refund, 54)).toBe('1002156C000000003000');
    const tooMuch = await send('0200', request(pos, '0200', [[3, '200000'], [4, amountField(2001n)], [37, rrn]]));
    expect(code(tooMuch)).toBe('13');
    const unknown = await send('0200', request(pos, '0200', [[3, '200000'], [4, amountField(1n)], [37, '999999999999']]));
    expect(code(unknown)).toBe('25');
    expect(await purse(cardNo)).toBe(3000);
  });

  it('an unsupported processing code → 12; a missing field → 30', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100 });
    expect(code(await send('0200', request(pos, '0200', [[2, cardNo], [3, '400000'], [4, amountField(1n)]])))).toBe('12');
    expect(code(await send('0200', request(pos, '0200', [[2, cardNo], [3, '000000']])))).toBe('30');
  });
});

describe('0400 reversal', () => {
  it('reverses a purchase named in F90; the balance is restored; again → the same answer', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const fields = request(pos, '0200', purchaseFields(cardNo, 1800));
    const bought = await send('0200', fields);
    expect(code(bought)).toBe('00');
    expect(await purse(cardNo)).toBe(3200);
    const original = formatOriginalData({ mti: '0200', stan: fields.get(11) as string, transmitted: f7, acquirer: '' });
    const reversal = request(pos, '0400', [[3, '000000'], [4, amountField(1800n)], [90, original]]);
    const res = await send('0400', reversal);
    expect(res.mti).toBe('0410');
    expect(code(res)).toBe('00');
    expect(fieldText(res, 90)).toBe(original);
    expect(fieldText(res, 54)).toBe('1002156C000000005000');
    expect(res.fields.has(128)).toBe(true);
    expect(answerMacOk(res, pos.mak)).toBe(true);
    const again = await send('0400', reversal);
    expect(code(again)).toBe('00');
    expect(await purse(cardNo)).toBe(5000);
    expect(await transfers(cardNo)).toBe(3);
  });

  it('a reversal of nothing → 25; its late original is then refused (12) and takes no money', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const stan = nextStan();
    const reversal = request(pos, '0400', [[90, formatOriginalData({ mti: '0200', stan, transmitted: f7 })]]);
    expect(code(await send('0400', reversal))).toBe('25');
    const late = request(pos, '0200', purchaseFields(cardNo, 700));
    late.set(11, stan);
    expect(code(await send('0200', late))).toBe('12');
    expect(await purse(cardNo)).toBe(5000);
  });

  it('reverses a top-up (the purse is debited back); 0420 advice of a reversed one answers the same', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100 });
    const fields = request(pos, '0200', [[2, cardNo], [3, '210000'], [4, amountField(900n)]]);
    expect(code(await send('0200', fields))).toBe('00');
    const f90 = formatOriginalData({ mti: '0200', stan: fields.get(11) as string, transmitted: f7 });
    const res = await send('0400', request(pos, '0400', [[3, '210000'], [90, f90]]));
    expect(code(res)).toBe('00');
    expect(fieldText(res, 54)).toBe('1002156C000000000100');
    const advice = await send('0420', request(pos, '0420', [[3, '210000'], [90, f90]]));
    expect(advice.mti).toBe('0430');
    expect(code(advice)).toBe('00');
    expect(await purse(cardNo)).toBe(100);
  });
});

describe('duplicates (terminal + STAN + F7)', () => {
  it('the same request → the same answer and one effect, also concurrently and after a restart', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const fields = request(pos, '0200', purchaseFields(cardNo, 400));
    const first = await send('0200', fields);
    const second = await send('0200', fields);
    expect(code(first)).toBe('00');
    expect(second.fields).toEqual(first.fields);
    // Two more on two connections at once.
    const other = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const [a, b] = await Promise.all([send('0200', fields), other.request({ mti: '0200', fields }, Buffer.from(pos.mak, 'hex'))]);
    other.close();
    expect(a.fields).toEqual(first.fields);
    expect(b.fields).toEqual(first.fields);
    // A new gateway on the same database (a restarted process) still knows the answer.
    const restarted = buildIsoGateway(sys);
    const port = await restarted.server.listen(0, '127.0.0.1');
    const c2 = await IsoClient.connect('127.0.0.1', port);
    const replay = await c2.request({ mti: '0200', fields }, Buffer.from(pos.mak, 'hex'));
    c2.close();
    await restarted.close();
    expect(replay.fields).toEqual(first.fields);
    expect(await purse(cardNo)).toBe(4600);
    expect(await transfers(cardNo)).toBe(2);
  });

  it('the same key with other content → 94 and nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const fields = request(pos, '0200', purchaseFields(cardNo, 400));
    expect(code(await send('0200', fields))).toBe('00');
    const changed = new Map(fields);
    changed.set(4, amountField(401n));
    expect(code(await send('0200', changed))).toBe('94');
    const topup = new Map(fields);
    topup.set(3, '210000');
    expect(code(await send('0200', topup))).toBe('94');
    expect(await purse(cardNo)).toBe(4600);
  });
});

describe('0220 offline advice', () => {
  it('is accepted once, may take the purse into debt, and a repeat is answered the same', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 300 });
    const fields = request(pos, '0220', purchaseFields(cardNo, 500));
    const res = await send('0220', fields);
    expect(res.mti).toBe('0230');
    expect(code(res)).toBe('00');
    expect(fieldText(res, 54)).toBe('1002156D000000000200');
    const again = await send('0220', fields);
    expect(again.fields).toEqual(res.fields);
    expect(await purse(cardNo)).toBe(-200);
    expect(await transfers(cardNo)).toBe(2);
    // A card in debt is declined online until topped up.
    expect(code(await send('0200', request(pos, '0200', purchaseFields(cardNo, 1))))).toBe('51');
  });

  it('a lost card is refused (41) and nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 300 });
    const lost = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    expect(lost.statusCode).toBe(200);
    expect(code(await send('0220', request(pos, '0220', purchaseFields(cardNo, 100))))).toBe('41');
    expect(await purse(cardNo)).toBe(300);
  });
});

describe('0800 network management and keys', () => {
  it('echo and sign-off → 00; the answer is MACed under the active MAK', async () => {
    const t = await retailPos(sys.http);
    const echo = await send('0800', new Map<number, FieldValue>([[7, f7], [11, nextStan()], [41, t.terminalId], [70, '301']]), null);
    expect(echo.mti).toBe('0810');
    expect(code(echo)).toBe('00');
    expect(fieldText(echo, 70)).toBe('301');
    expect(answerMacOk(echo, t.mak)).toBe(true);
    const off = await send('0800', new Map<number, FieldValue>([[7, f7], [11, nextStan()], [41, t.terminalId], [70, '002']]), null);
    expect(code(off)).toBe('00');
  });

  it('sign-on issues a MAK and PIN key under the TMK that then work; the old MAK works until the new one is used', async () => {
    const t = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin: '112233' });
    const c = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const terminal = new PosTerminal(c, { terminalId: t.terminalId, merchantId: 'M0000000000001', keys: t, firstStan: 500 });
    const signOn = await terminal.signOn();
    expect(signOn).toMatchObject({ code: '00', keysInstalled: true });
    // The registered MAK is still good: nothing has used the new keys yet.
    expect(code(await send('0200', request(t, '0200', purchaseFields(cardNo, 100)), t.mak))).toBe('00');
    // The new keys: MAC and PIN block (above the no-PIN maximum) both under the issued keys.
    const paid = await terminal.purchase(cardNo, 40_000n, '112233');
    expect(paid.code).toBe('00');
    expect(paid.macBad).toBeUndefined();
    // Now the old MAK is retired.
    expect(code(await send('0200', request(t, '0200', purchaseFields(cardNo, 100)), t.mak))).toBe('63');
    // And the HTTP API checks PINs with the new PIN key too.
    const keys = sys.admin.terminalKeys((await sys.registry.terminal(t.terminalId))!.keysEnc);
    expect(keys.mak).not.toBe(t.mak);
    expect(keys.tpk).not.toBe(t.tpk);
    expect(keys.tmk).toBe(t.tmk);
    const keyChange = await terminal.signOn('101');
    expect(keyChange).toMatchObject({ code: '00', keysInstalled: true });
    expect((await terminal.purchase(cardNo, 100n)).code).toBe('00');
    c.close();
    expect(await purse(cardNo)).toBe(100_000 - 100 - 40_000 - 100);
    expect(sys.logLines.join('')).not.toContain(keys.mak);
    expect(sys.logLines.join('')).not.toContain(cardNo);
  });
});
