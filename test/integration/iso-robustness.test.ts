// The ISO 8583 server under malformed input, pipelining and its limits (issue: ISO 8583 gateway):
// format errors → 30 where the MTI is readable, else the connection closes; nothing else breaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { encodeMessage, encodeMessageWithMac, fieldText, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { frame } from '../../src/adapters/iso8583/framing.js';
import { retailMac } from '../../src/adapters/iso8583/mac.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';
import { amountField } from '../../src/adapters/iso8583/fields.js';
import { defaultIsoLimits } from '../../src/adapters/iso8583/server.js';
import { buildIsoGateway, type IsoGateway } from '../../src/wiring/iso.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let stanSeq = 0;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
});
afterAll(async () => sys?.destroy());

const nextStan = () => String(++stanSeq).padStart(6, '0');
const connect = (port = sys.iso.port) => IsoClient.connect('127.0.0.1', port);
const ascii = (s: string) => Buffer.from(s, 'latin1');
const hex = (s: string) => Buffer.from(s, 'hex');

function macd(mti: string, entries: [number, FieldValue][]): { bytes: Buffer; stan: string } {
  const stan = nextStan();
  const fields = new Map<number, FieldValue>([[7, '0101120000'], [11, stan], [41, pos.terminalId], ...entries]);
  return { bytes: encodeMessageWithMac({ mti, fields }, (input) => retailMac(hex(pos.mak), input)), stan };
}

async function echoWorks(port = sys.iso.port): Promise<void> {
  const c = await connect(port);
  const res = await c.request({ mti: '0800', fields: [[11, nextStan()], [41, pos.terminalId], [70, '301']] });
  c.close();
  expect(fieldText(res, 39)).toBe('00');
}

describe('malformed messages', () => {
  it('a frame length of 0 or above the maximum closes that connection only', async () => {
    for (const prefix of ['0000', 'ffff', '1001']) {
      const c = await connect();
      c.writeRaw(hex(prefix + '30323030'));
      await c.whenClosed();
      expect(c.closed).toBe(true);
    }
    await echoWorks();
  });

  it('an MTI that is not 4 digits closes the connection; a response MTI too', async () => {
    const bad = await connect();
    bad.writeRaw(frame(Buffer.concat([ascii('02X0'), Buffer.alloc(8)])));
    await bad.whenClosed();
    const stray = await connect();
    stray.writeRaw(frame(encodeMessage({ mti: '0210', fields: new Map([[11, '000001'], [39, '00']]) })));
    await stray.whenClosed();
    expect(bad.closed && stray.closed).toBe(true);
    await echoWorks();
  });

  it('a bit for a field outside the profile → 0210 with 30', async () => {
    const c = await connect();
    // Primary bitmap with field 5 (not in the profile).
    c.writeRaw(frame(Buffer.concat([ascii('0200'), hex('0800000000000000'), ascii('000000000100')])));
    const [answer] = (await c.waitUnmatched(1)) as IsoMessage[];
    expect(answer!.mti).toBe('0210');
    expect(fieldText(answer!, 39)).toBe('30');
    expect(answer!.fields.has(64)).toBe(false);
    // An announced but empty secondary bitmap is malformed too.
    c.writeRaw(frame(Buffer.concat([ascii('0800'), hex('8000000000000000'), hex('0000000000000000')])));
    const answers = (await c.waitUnmatched(2)) as IsoMessage[];
    expect(answers[1]!.mti).toBe('0810');
    expect(fieldText(answers[1]!, 39)).toBe('30');
    c.close();
  });

  it('non-digits in a numeric field, a too-long LLVAR, a truncated message → 30, echoing the STAN when it was read', async () => {
    const c = await connect();
    const good = macd('0200', [[2, '6200000000000018'], [3, '000000'], [4, amountField(100n)], [13, '1231']]);
    const nonDigit = Buffer.from(good.bytes);
    nonDigit.write('AB31', nonDigit.indexOf('1231', 58), 'latin1'); // F13, after F11
    const answer = await c.requestBytes(nonDigit, good.stan);
    expect(answer.mti).toBe('0210');
    expect(fieldText(answer, 39)).toBe('30');
    // F2 declared 25 digits (the profile allows 19); no STAN read yet → only 39.
    c.writeRaw(frame(Buffer.concat([ascii('0200'), hex('4000000000000000'), ascii('25' + '1'.repeat(25))])));
    // Truncated: the bitmap promises F11 that is not there.
    c.writeRaw(frame(Buffer.concat([ascii('0200'), hex('0020000000000000'), ascii('123')])));
    const rest = (await c.waitUnmatched(2)) as IsoMessage[];
    expect(rest.map((m) => [m.mti, fieldText(m, 39), fieldText(m, 11)])).toEqual([
      ['0210', '30', undefined],
      ['0210', '30', undefined],
    ]);
    c.close();
  });

  it('an MTI outside the profile → MTI + 10 with 30', async () => {
    const c = await connect();
    const res = await c.request({ mti: '0100', fields: [[11, nextStan()], [41, pos.terminalId]] });
    expect(res.mti).toBe('0110');
    expect(fieldText(res, 39)).toBe('30');
    c.close();
  });

  it('random frames never stop the server: every one is answered 30 or closes its connection', async () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 40; i++) {
      const c = await connect();
      const body = Buffer.alloc(1 + rand(200));
      for (let j = 0; j < body.length; j++) body[j] = rand(256);
      if (i % 2 === 0) ascii('0200').copy(body); // half of them with a readable MTI
      c.writeRaw(frame(body));
      const got = await Promise.race([c.waitUnmatched(1, 2000), c.whenClosed().then(() => [])]);
      for (const m of got as IsoMessage[]) expect(fieldText(m, 39)).toBe('30');
      c.close();
    }
    await echoWorks();
  });
});

describe('pipelining', () => {
  it('answers requests of one connection as they complete, matched by STAN', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 100_000, pin: '424242' });
    const c = await connect();
    // A PIN check (scrypt) makes the purchase slower than the balance inquiries sent after it.
    const slow = macd('0200', [[2, cardNo], [3, '000000'], [4, amountField(40_000n)], [52, encryptPinBlock('424242', cardNo, hex(pos.tpk))]]);
    const fast = Array.from({ length: 5 }, () => macd('0200', [[2, cardNo], [3, '310000']]));
    // All six in one write, the slow one first; nobody waits by STAN, so the answers collect in arrival order.
    c.writeRaw(Buffer.concat([slow, ...fast].map((m) => frame(m.bytes))));
    const answers = (await c.waitUnmatched(6)) as IsoMessage[];
    const arrival = answers.map((a) => fieldText(a, 11)!);
    c.close();
    expect(new Set(arrival)).toEqual(new Set([slow, ...fast].map((m) => m.stan)));
    expect(arrival[0]).not.toBe(slow.stan);
    const purchase = answers.find((a) => fieldText(a, 11) === slow.stan)!;
    expect(fieldText(purchase, 39)).toBe('00');
    expect(fieldText(purchase, 3)).toBe('000000');
    for (const a of answers.filter((x) => x !== purchase)) expect(fieldText(a, 3)).toBe('310000');
  });
});

describe('limits', () => {
  let gateway: IsoGateway;
  let port: number;
  beforeAll(async () => {
    gateway = buildIsoGateway(sys, { ...defaultIsoLimits, inflightPerConnectionMax: 2, idleTimeoutMs: 300, connectionsMax: 3, messageBytesMax: 200 });
    port = await gateway.server.listen(0, '127.0.0.1');
  });
  afterAll(async () => gateway?.close());

  it('beyond the in-flight maximum a request is answered 91 (overload) at once, not processed', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const c = await connect(port);
    const msgs = Array.from({ length: 5 }, () => macd('0200', [[2, cardNo], [3, '000000'], [4, amountField(100n)]]));
    c.writeRaw(Buffer.concat(msgs.map((m) => frame(m.bytes))));
    const answers = (await c.waitUnmatched(5)) as IsoMessage[];
    c.close();
    const codes = answers.map((a) => fieldText(a, 39)).sort();
    expect(codes).toEqual(['00', '00', '91', '91', '91']);
    const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: { authorization: 'Bearer test-admin-token-0123' } });
    expect(res.json().purse).toBe(4800);
  });

  it('an idle connection is closed after the idle timeout', async () => {
    const c = await connect(port);
    const started = Date.now();
    await c.whenClosed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a message above the size maximum closes the connection', async () => {
    const c = await connect(port);
    c.writeRaw(frame(Buffer.concat([ascii('0800'), Buffer.alloc(300)])));
    await c.whenClosed();
    expect(c.closed).toBe(true);
  });

  // Since issue 18 (hole 3) only connections that have sent a MAC-valid message hold their place at
  // the maximum (strangers are shed first: security-iso-connections.test.ts), so these three sign in with a MAC'd echo.
  it('connections beyond the maximum are refused when every open one is authenticated; the others keep working', async () => {
    const open = await Promise.all([connect(port), connect(port), connect(port)]);
    for (const c of open) {
      const m = macd('0800', [[70, '301']]);
      expect(fieldText(await c.requestBytes(m.bytes, m.stan), 39)).toBe('00');
    }
    const extra = await connect(port);
    await extra.whenClosed();
    expect(extra.closed).toBe(true);
    const res = await open[0]!.request({ mti: '0800', fields: [[11, nextStan()], [41, pos.terminalId], [70, '301']] });
    expect(fieldText(res, 39)).toBe('00');
    for (const c of open) c.close();
  });
});
