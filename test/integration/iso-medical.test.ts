// Medical settlements over ISO 8583 (issue: ISO 8583 gateway; codes proposed in docs/medical.md):
// 0200 with 190000/191000 settle, 390000 presettle, 290000 cancel, items in field 48.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, medicalPos, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { amountField, formatOriginalData, parseBalances, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

let sys: TestSystem;
let client: IsoClient;
let hospital: RegisteredTerminal;
let stanSeq = 0;
const f7 = transmissionDateTime(new Date());

beforeAll(async () => {
  sys = await createTestSystem();
  hospital = await medicalPos(sys.http);
  client = await IsoClient.connect('127.0.0.1', sys.iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

const items = [
  { code: 'CT01', amount: 95_005, eligible: true },
  { code: 'DRUG7', amount: 15_010, eligible: true },
  { code: 'ROOM1', amount: 6_000, eligible: false },
];
const field48 = 'CT01,95005,E;DRUG7,15010,E;ROOM1,6000,N';
const total = 116_015;

function send(t: RegisteredTerminal, entries: [number, FieldValue][], merchantId = 'M0000000000101'): Promise<IsoMessage> {
  const stan = String(++stanSeq).padStart(6, '0');
  const fields = new Map<number, FieldValue>([[7, f7], [11, stan], [41, t.terminalId], [42, merchantId.padEnd(15)], ...entries]);
  return client.request({ mti: '0200', fields }, Buffer.from(t.mak, 'hex'));
}

const settle = (cardNo: string, pc = '191000', f48 = field48, amount = total): [number, FieldValue][] => [
  [2, cardNo],
  [3, pc],
  [4, amountField(BigInt(amount))],
  [48, f48],
];

async function balances(cardNo: string): Promise<{ purse: number; medical: number }> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  return res.json() as { purse: number; medical: number };
}

describe('medical settlement over ISO 8583', () => {
  it('settles (191000) with the split of the HTTP presettle, answers what each side paid in F54, and cancels (290000)', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000, medical: 45_000, insured: true });
    const expected = (await sys.http.inject({ method: 'POST', url: '/v1/medical/presettle', headers: hospital.headers, payload: { claimId: 'x', cardNo, items } })).json();
    const pre = await send(hospital, settle(cardNo, '391000'));
    expect(fieldText(pre, 39)).toBe('00');
    const res = await send(hospital, settle(cardNo));
    expect(fieldText(res, 39)).toBe('00');
    expect(fieldText(res, 38)).toMatch(/^\d{6}$/);
    const entries = parseBalances(fieldText(res, 54)!);
    expect(entries.map((e) => `${e.accountType}${e.amountType}`)).toEqual(['3090', '2090', '1090', '4090', '1002', '2002']);
    const [fund, personal, purse, cash, purseAfter, medicalAfter] = entries.map((e) => Number(e.amountFen));
    expect(fund! + personal! + purse! + cash!).toBe(total);
    expect({ fund, personal, cash }).toEqual({ fund: expected.fund, personal: expected.personal, cash: expected.cash - purse! });
    expect(parseBalances(fieldText(pre, 54)!).map((e) => Number(e.amountFen)).slice(0, 4)).toEqual([fund, personal, purse, cash]);
    expect(await balances(cardNo)).toMatchObject({ purse: purseAfter, medical: medicalAfter });
    expect(medicalAfter).toBe(45_000 - personal!);

    const settleStan = String(stanSeq).padStart(6, '0');
    const cancel = await send(hospital, [[2, cardNo], [3, '290000'], [4, amountField(BigInt(total))], [90, formatOriginalData({ mti: '0200', stan: settleStan, transmitted: f7 })]]);
    expect(fieldText(cancel, 39)).toBe('00');
    expect(await balances(cardNo)).toMatchObject({ purse: 10_000, medical: 45_000 });
  });

  it('a retransmitted settlement is the same claim: same answer, one effect', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000, medical: 45_000, insured: true });
    const stan = String(++stanSeq).padStart(6, '0');
    const fields = new Map<number, FieldValue>([[7, f7], [11, stan], [41, hospital.terminalId], ...settle(cardNo, '190000')]);
    const first = await client.request({ mti: '0200', fields }, Buffer.from(hospital.mak, 'hex'));
    const again = await client.request({ mti: '0200', fields }, Buffer.from(hospital.mak, 'hex'));
    expect(fieldText(first, 39)).toBe('00');
    expect(again.fields).toEqual(first.fields);
    const after = await balances(cardNo);
    // 190000: no purse; what the medical account cannot pay is cash.
    expect(after.purse).toBe(10_000);
    expect(after.medical).toBe(0);
    // A 0400 reversal of the settlement cancels the claim.
    const reversal = new Map<number, FieldValue>([[7, f7], [11, String(++stanSeq).padStart(6, '0')], [41, hospital.terminalId], [90, formatOriginalData({ mti: '0200', stan, transmitted: f7 })]]);
    const rev = await client.request({ mti: '0400', fields: reversal }, Buffer.from(hospital.mak, 'hex'));
    expect(fieldText(rev, 39)).toBe('00');
    expect(await balances(cardNo)).toMatchObject({ purse: 10_000, medical: 45_000 });
  });

  it('F4 not the sum of the items → 13; malformed items → 30; a retail POS → 58', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000, medical: 45_000 });
    expect(fieldText(await send(hospital, settle(cardNo, '191000', field48, total + 1)), 39)).toBe('13');
    expect(fieldText(await send(hospital, settle(cardNo, '191000', 'CT01;95005;E')), 39)).toBe('30');
    const shop = await retailPos(sys.http);
    expect(fieldText(await send(shop, settle(cardNo), 'M0000000000001'), 39)).toBe('58');
    expect(await balances(cardNo)).toMatchObject({ purse: 10_000, medical: 45_000 });
    // Field 48 is health data: never in a log line.
    expect(sys.logLines.join('')).not.toContain('DRUG7');
  });
});
