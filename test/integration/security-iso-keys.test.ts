// ISO 8583 key management under attack (issue 18, hole 2), over real TCP against real PostgreSQL
// and Redis: a sign-on (F70 001) or key change (101) must be MACed under the terminal's TMK, else
// 0810 with 63 and no new keys; key changes are rate-limited per terminal across gateway processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, purseOf, retailPos, trialBalanced, type RegisteredTerminal } from '../support/fixtures.js';
import { purchaseFields } from '../support/iso.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { PosTerminal } from '../../terminals/pos/terminal.js';
import { encodeMessage, fieldText, macInput, macOf, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { verifyMac } from '../../src/adapters/iso8583/mac.js';
import { transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import { generateKey } from '../../src/adapters/iso8583/keys.js';
import { buildIsoGateway, type IsoGateway } from '../../src/wiring/iso.js';
import { defaultRekeyLimits } from '../../src/adapters/redis/rekey-limit.js';

let sys: TestSystem;
let stanSeq = 100;
const nextStan = () => String(++stanSeq).padStart(6, '0');
const hex = (s: string) => Buffer.from(s, 'hex');

beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => sys?.destroy());

const purse = (cardNo: string) => purseOf(sys.http, cardNo);
const balanced = () => trialBalanced(sys.http);

/** The keys the registry holds for the terminal (decrypted), including unused `next` ones. */
async function storedKeys(terminalId: string): Promise<Record<string, unknown>> {
  return sys.admin.terminalKeys((await sys.registry.terminal(terminalId))!.keysEnc) as unknown as Record<string, unknown>;
}

function networkRequest(t: RegisteredTerminal, code: string): Map<number, FieldValue> {
  return new Map<number, FieldValue>([
    [7, transmissionDateTime(new Date())],
    [11, nextStan()],
    [41, t.terminalId],
    [70, code],
  ]);
}

const purchase = (t: RegisteredTerminal, cardNo: string, amountFen: number) => purchaseFields(t.terminalId, cardNo, amountFen, nextStan());

function macOk(m: IsoMessage, key: string): boolean {
  const raw = encodeMessage(m);
  return verifyMac(hex(key), macInput(raw), macOf(raw));
}

describe('key management needs a MAC under the TMK', () => {
  it('a sign-on or key change with no MAC, or a MAC under the MAK or a guessed key → 0810 63, no keys issued, the current keys keep working', async () => {
    const t = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const before = await storedKeys(t.terminalId);
    const c = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const forgeries: [string, Buffer | undefined][] = [
      ['no MAC', undefined],
      ['MAC under the MAK', hex(t.mak)],
      ['MAC under a guessed key', generateKey()],
    ];
    for (const code of ['001', '101']) {
      for (const [what, key] of forgeries) {
        const res = await c.request({ mti: '0800', fields: networkRequest(t, code) }, key);
        expect(res.mti, what).toBe('0810');
        expect(fieldText(res, 39), `${code} ${what}`).toBe('63');
        expect(fieldText(res, 60), `${code} ${what}`).toBeUndefined();
      }
    }
    // Nothing was stored for the terminal: no `next` keys waiting to be promoted.
    expect(await storedKeys(t.terminalId)).toEqual(before);
    // Its next message, under the MAK it holds, is still good (the attack used to make it 63).
    const paid = await c.request({ mti: '0200', fields: purchase(t, cardNo, 700) }, hex(t.mak));
    expect(fieldText(paid, 39)).toBe('00');
    expect(macOk(paid, t.mak)).toBe(true);
    c.close();
    expect(await purse(cardNo)).toBe(9_300);
    expect(await balanced()).toBe(true);
  });

  it('a sign-on MACed under the TMK gets keys, its answer MACed under the TMK; echo stays unauthenticated', async () => {
    const t = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const c = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const echo = await c.request({ mti: '0800', fields: networkRequest(t, '301') });
    expect(fieldText(echo, 39)).toBe('00');
    const signOn = await c.request({ mti: '0800', fields: networkRequest(t, '001') }, hex(t.tmk));
    expect(fieldText(signOn, 39)).toBe('00');
    expect(fieldText(signOn, 60)).toMatch(/^MAK:[0-9A-F]{32}:[0-9A-F]{6};TPK:[0-9A-F]{32}:[0-9A-F]{6}$/);
    expect(macOk(signOn, t.tmk)).toBe(true);
    // The POS program does the same and installs the keys.
    const pos = new PosTerminal(c, { terminalId: t.terminalId, merchantId: 'M0000000000001', keys: t, firstStan: 900 });
    expect(await pos.signOn('101')).toMatchObject({ code: '00', keysInstalled: true });
    expect((await pos.purchase(cardNo, 300n)).code).toBe('00');
    c.close();
    expect(await purse(cardNo)).toBe(9_700);
  });
});

describe('key changes are rate-limited per terminal, across gateway processes', () => {
  let second: IsoGateway;
  beforeAll(async () => {
    // A second gateway on the same PostgreSQL and Redis, as another ISO process would be.
    second = buildIsoGateway(sys);
    await second.server.listen(0, '127.0.0.1');
  });
  afterAll(async () => second?.close());

  it(`after ${defaultRekeyLimits.rekeysPerTerminalMax} key changes in a minute the next → 65 and no new keys, on either gateway; other terminals are not affected`, async () => {
    const t = await retailPos(sys.http);
    const other = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const a = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const b = await IsoClient.connect('127.0.0.1', second.port);
    const posA = new PosTerminal(a, { terminalId: t.terminalId, merchantId: 'M0000000000001', keys: t, firstStan: 100 });
    const posB = new PosTerminal(b, { terminalId: t.terminalId, merchantId: 'M0000000000001', keys: t, firstStan: 200 });
    for (let i = 0; i < defaultRekeyLimits.rekeysPerTerminalMax; i++) {
      const r = await (i % 2 === 0 ? posA : posB).signOn(i === 0 ? '001' : '101');
      expect(r, `key change ${i + 1}`).toMatchObject({ code: '00', keysInstalled: true });
    }
    const keysAfterLast = await storedKeys(t.terminalId);
    for (const pos of [posA, posB]) {
      const refused = await pos.signOn('101');
      expect(refused).toMatchObject({ code: '65', keysInstalled: false });
    }
    expect(await storedKeys(t.terminalId)).toEqual(keysAfterLast);
    // The last keys issued are the ones the terminal holds (posB installed the 4th; posA the 5th).
    expect((await posA.purchase(cardNo, 100n)).code).toBe('00');
    // Another terminal signs on as usual.
    const c = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const posOther = new PosTerminal(c, { terminalId: other.terminalId, merchantId: 'M0000000000001', keys: other, firstStan: 300 });
    expect(await posOther.signOn()).toMatchObject({ code: '00', keysInstalled: true });
    for (const client of [a, b, c]) client.close();
    expect(await purse(cardNo)).toBe(9_900);
    expect(await balanced()).toBe(true);
  });
});
