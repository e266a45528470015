// ISO 8583 connection exhaustion and log flooding (issue 18, hole 3 and part of 10), over real TCP
// against real PostgreSQL and Redis: 2,000 idle sockets at the real connection maximum do not lock
// a POS out (strangers are shed first), a connection without a MAC-valid message within 10 s is
// closed, and bad input cannot flood the log (per-connection and global budgets, dropped lines counted).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, purseOf, retailPos, trialBalanced, type RegisteredTerminal } from '../support/fixtures.js';
import { purchaseFields } from '../support/iso.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { PosTerminal } from '../../terminals/pos/terminal.js';
import { fieldText } from '../../src/adapters/iso8583/codec.js';
import { frame } from '../../src/adapters/iso8583/framing.js';
import { generateKey } from '../../src/adapters/iso8583/keys.js';
import { defaultIsoLimits } from '../../src/adapters/iso8583/server.js';

let sys: TestSystem;
let stanSeq = 0;
const nextStan = () => String(++stanSeq).padStart(6, '0');

beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => sys?.destroy());

const purse = (cardNo: string) => purseOf(sys.http, cardNo);
const balanced = () => trialBalanced(sys.http);

const purchase = (t: RegisteredTerminal, cardNo: string, amountFen: number) => purchaseFields(t.terminalId, cardNo, amountFen, nextStan());

/** An idle TCP connection that never sends a byte, and whether the server has closed it. */
interface Idle {
  socket: net.Socket;
  closed: boolean;
}

function openIdle(port: number): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const idle: Idle = { socket: net.connect({ host: '127.0.0.1', port }), closed: false };
    idle.socket.once('connect', () => resolve(idle));
    idle.socket.once('error', reject);
    idle.socket.on('close', () => (idle.closed = true));
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('connection exhaustion', () => {
  it(`with ${defaultIsoLimits.connectionsMax} idle connections open (the real maximum) a signed-on terminal is answered and a new POS gets in; strangers are shed`, async () => {
    expect(defaultIsoLimits.connectionsMax).toBe(2_000);
    const a = await retailPos(sys.http);
    const b = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const port = sys.iso.port;
    // Terminal A is connected and has shown its MAC before the flood.
    const clientA = await IsoClient.connect('127.0.0.1', port);
    expect(fieldText(await clientA.request({ mti: '0200', fields: purchase(a, cardNo, 100) }, Buffer.from(a.mak, 'hex')), 39)).toBe('00');

    const idle: Idle[] = [];
    const shedBefore = sys.iso.server.shedCount;
    try {
      // 2,000 idle sockets, opened in waves (the listen backlog is finite).
      for (let wave = 0; wave < 20; wave++) idle.push(...(await Promise.all(Array.from({ length: 100 }, () => openIdle(port)))));
      await until(() => sys.iso.server.connectionCount <= defaultIsoLimits.connectionsMax && idle.filter((s) => s.closed).length >= 1, 5_000);
      expect(sys.iso.server.connectionCount).toBe(defaultIsoLimits.connectionsMax);
      // A (authenticated) keeps its place and is answered while the idle ones are open.
      expect(fieldText(await clientA.request({ mti: '0200', fields: purchase(a, cardNo, 200) }, Buffer.from(a.mak, 'hex')), 39)).toBe('00');
      // A new POS connects: the oldest stranger makes room; it signs on (TMK) and pays.
      const clientB = await IsoClient.connect('127.0.0.1', port);
      const posB = new PosTerminal(clientB, { terminalId: b.terminalId, merchantId: 'M0000000000001', keys: b, firstStan: 500 });
      expect(await posB.signOn()).toMatchObject({ code: '00', keysInstalled: true });
      expect((await posB.purchase(cardNo, 300n)).code).toBe('00');
      await until(() => idle.filter((s) => s.closed).length >= 2, 2_000);
      expect(idle.filter((s) => s.closed).length).toBeGreaterThanOrEqual(2);
      // Only as many as were needed: one for the 2,000th idle socket (A holds a place), one for B.
      expect(sys.iso.server.shedCount - shedBefore).toBeGreaterThanOrEqual(1);
      expect(sys.iso.server.shedCount - shedBefore).toBeLessThanOrEqual(2);
      expect(sys.iso.server.connectionCount).toBeLessThanOrEqual(defaultIsoLimits.connectionsMax);
      // The oldest idle ones went first.
      expect(idle[0]!.closed && idle[1]!.closed).toBe(true);
      clientB.close();
    } finally {
      for (const s of idle) s.socket.destroy();
      clientA.close();
    }
    expect(await purse(cardNo)).toBe(10_000 - 100 - 200 - 300);
    expect(await balanced()).toBe(true);
  }, 60_000);

  it('a connection that has not sent one complete, MAC-valid message within 10 s is closed; one that has stays open', async () => {
    const t = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 5_000 });
    const port = sys.iso.port;
    const silent = await openIdle(port);
    const chatty = await IsoClient.connect('127.0.0.1', port); // unMAC'd echoes and forged purchases only
    const half = await openIdle(port); // half a frame, never completed
    half.socket.write(Buffer.from([0x00, 0x40, 0x30, 0x32]));
    const good = await IsoClient.connect('127.0.0.1', port);
    expect(fieldText(await good.request({ mti: '0200', fields: purchase(t, cardNo, 100) }, Buffer.from(t.mak, 'hex')), 39)).toBe('00');
    const started = Date.now();
    const timer = setInterval(() => {
      if (chatty.closed) return;
      chatty.request({ mti: '0800', fields: [[11, nextStan()], [41, t.terminalId], [70, '301']] }).catch(() => undefined);
      chatty.request({ mti: '0200', fields: purchase(t, cardNo, 999) }, generateKey()).catch(() => undefined);
    }, 1_000);
    try {
      await until(() => silent.closed && chatty.closed && half.closed, 14_000);
      const elapsed = Date.now() - started;
      expect(silent.closed && chatty.closed && half.closed).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(defaultIsoLimits.authTimeoutMs - 1_000);
      expect(good.closed).toBe(false);
      expect(fieldText(await good.request({ mti: '0200', fields: purchase(t, cardNo, 100) }, Buffer.from(t.mak, 'hex')), 39)).toBe('00');
    } finally {
      clearInterval(timer);
      silent.socket.destroy();
      half.socket.destroy();
      chatty.close();
      good.close();
    }
    expect(await purse(cardNo)).toBe(4_800);
  }, 30_000);
});

describe('bad-input logging is rate-limited', () => {
  const badLines = () => sys.logLines.filter((l) => l.includes('"code":"63"') || l.includes('iso: malformed message')).length;

  it('500 forged messages on one connection write at most the per-connection budget; the rest are counted as dropped and reported', async () => {
    const t = await retailPos(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 5_000 });
    const before = badLines();
    const droppedBefore = sys.iso.server.logLinesDropped;
    const c = await IsoClient.connect('127.0.0.1', sys.iso.port);
    const wrongKey = generateKey();
    const answers = [];
    // Two waves of 250: within the per-connection in-flight maximum (256), so each one is processed.
    for (let wave = 0; wave < 2; wave++) answers.push(...(await Promise.all(Array.from({ length: 250 }, () => c.request({ mti: '0200', fields: purchase(t, cardNo, 100) }, wrongKey)))));
    expect(answers.every((m) => fieldText(m, 39) === '63')).toBe(true);
    c.close();
    expect(badLines() - before).toBeLessThanOrEqual(defaultIsoLimits.badInputLogsPerConnectionMax);
    expect(sys.iso.server.logLinesDropped - droppedBefore).toBeGreaterThanOrEqual(500 - defaultIsoLimits.badInputLogsPerConnectionMax);
    // One line reports the dropped count (at most one such line per 10 s).
    const reported = () => sys.logLines.some((l) => l.includes('log lines about bad input dropped') && l.includes(`"droppedTotal":${sys.iso.server.logLinesDropped}`));
    await until(reported, 11_000);
    expect(reported()).toBe(true);
    expect(await purse(cardNo)).toBe(5_000);
  }, 20_000);

  it('malformed frames spread over 100 connections stay within the global budget per second', async () => {
    const before = badLines();
    const started = Date.now();
    const clients = await Promise.all(Array.from({ length: 100 }, () => IsoClient.connect('127.0.0.1', sys.iso.port)));
    // Each: three messages with a readable MTI and a bad field (answered 30, logged as malformed).
    for (const c of clients) for (let i = 0; i < 3; i++) c.writeRaw(frame(Buffer.concat([Buffer.from('0200'), Buffer.from('0800000000000000', 'hex'), Buffer.from('00000X')])));
    await Promise.all(clients.map((c) => c.waitUnmatched(3, 5_000)));
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    for (const c of clients) c.close();
    expect(clients.every((c) => c.unmatched.length === 3)).toBe(true);
    expect(badLines() - before).toBeLessThanOrEqual(defaultIsoLimits.badInputLogsPerSecondMax * seconds);
  });
});
