// The reader programs (terminals/) as child processes against a system listening on a real port:
// a bus validator killed (SIGKILL) while offline with taps queued uploads every tap exactly once
// after a restart; a metro gate replays a scripted day. Also the GTFS import CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { urlFor } from '../support/db-names.js';
import { at, bus, gate, purse, upload } from './transit-helpers.js';
import { businessDateOf } from '../../src/domain/business-day.js';

// The readers tap at the real time, so the days of this file are recent ones: taps older than the
// offline window (30 days) are refused.
const daysAgo = (n: number): string => businessDateOf(new Date(Date.now() - n * 86_400_000));

let sys: TestSystem;
let port: number;
let stateDir: string;

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.http.listen({ port: 0, host: '127.0.0.1' });
  port = (sys.http.server.address() as { port: number }).port;
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'cc-readers-'));
});
afterAll(async () => {
  await sys.destroy();
  await rm(stateDir, { recursive: true, force: true });
});

/** A port nothing listens on: the reader's link is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

interface Program {
  child: ChildProcess;
  events: Record<string, unknown>[];
  /** Resolves when `count` events match. */
  waitFor(match: (e: Record<string, unknown>) => boolean, count?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startReader(program: string, terminal: RegisteredTerminal, server: string, extra: string[] = [], stdin: 'pipe' | 'ignore' = 'pipe'): Program {
  const child = spawn(process.execPath, ['--import', 'tsx', `terminals/${program}/main.ts`, '--terminal', terminal.terminalId, '--key', terminal.apiKey, '--server', server, '--state-dir', stateDir, '--retry-ms', '60000', '--hotlist-ms', '60000', ...extra], {
    stdio: [stdin, 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters: { match: (e: Record<string, unknown>) => boolean; count: number; resolve: () => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (events.filter(w.match).length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    events,
    exited,
    waitFor: (match, count = 1) =>
      events.filter(match).length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`timed out waiting for events; got ${JSON.stringify(events)} stderr ${stderr}`)), 20_000);
            waiters.push({ match, count, resolve: () => (clearTimeout(timer), resolve()) });
          }),
  };
}

describe('bus validator program', () => {
  it('killed while offline with taps queued, then restarted, uploads every tap exactly once', async () => {
    const validator = await bus(sys.http, 'B2');
    const cards = await Promise.all(Array.from({ length: 5 }, () => issueCard(sys.http, { balance: 1000 })));
    const offline = startReader('bus', validator, `http://127.0.0.1:${await closedPort()}`);
    await offline.waitFor((e) => e.event === 'start');
    for (const { cardNo } of cards) offline.child.stdin!.write(`tap ${cardNo}\n`);
    await offline.waitFor((e) => e.event === 'tap' && e.mode === 'offline' && e.approved === true, cards.length);
    offline.child.kill('SIGKILL');
    await offline.exited;
    const queueFile = path.join(stateDir, `${validator.terminalId}.queue.jsonl`);
    const queued = (await readFile(queueFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tapId: string });
    expect(queued).toHaveLength(cards.length);
    expect(offline.events.some((e) => JSON.stringify(e).includes(cards[0]!.cardNo))).toBe(false); // masked

    // As if an earlier upload had reached the server but the reader died before it cleared its queue.
    const early = await upload(sys.http, validator, queued.slice(0, 2));
    expect(early.json().results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);

    const online = startReader('bus', validator, `http://127.0.0.1:${port}`, [], 'ignore');
    expect(await online.exited).toBe(0);
    expect(online.events.find((e) => e.event === 'upload')).toMatchObject({ sent: 5, accepted: 3, duplicate: 2, rejected: 0, left: 0 });
    // Each uploaded tap is printed with its code, the code's meaning and its fare.
    const perTap = online.events.filter((e) => e.event === 'uploaded-tap');
    expect(perTap.map((e) => e.tapId)).toEqual(queued.map((q) => q.tapId));
    expect(perTap.filter((e) => e.status === 'duplicate')).toHaveLength(2);
    for (const e of perTap) expect(e).toMatchObject({ code: '00', meaning: 'approved' });
    expect((await readFile(queueFile, 'utf8')).trim()).toBe('');
    const rows = await sys.pool.query<{ tap_id: string; n: number }>(`SELECT tap_id, count(*)::int AS n FROM taps WHERE tap_id = ANY($1) GROUP BY tap_id`, [queued.map((q) => q.tapId)]);
    expect(rows.rows).toHaveLength(cards.length);
    for (const { cardNo } of cards) expect(await purse(sys.http, cardNo)).toBe(900);

    const again = startReader('bus', validator, `http://127.0.0.1:${port}`, [], 'ignore');
    expect(await again.exited).toBe(0);
    expect(again.events.find((e) => e.event === 'start')).toMatchObject({ queued: 0 });
    expect(again.events.some((e) => e.event === 'upload')).toBe(false);
  });
});

describe('metro gate program', () => {
  it('replays a scripted day online', async () => {
    const zjs = await gate(sys.http, 'ZJS');
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const script = path.join(stateDir, 'gate-day.txt');
    await writeFile(script, `# a commute\n08:00 in ${cardNo}\n08:10 out ${cardNo}\n08:11 out ${cardNo}\nquit\n`);
    const g = startReader('gate', zjs, `http://127.0.0.1:${port}`, ['--replay', script, '--date', daysAgo(2)], 'ignore');
    expect(await g.exited).toBe(0);
    const taps = g.events.filter((e) => e.event === 'tap');
    // In and out at the same station within 20 minutes: the same-station fare (0); a second exit at
    // the same gate within 120 s: anti-passback.
    expect(taps.map((t) => [t.mode, t.approved, t.code, t.fare])).toEqual([
      ['online', true, '00', 0],
      ['online', true, '00', 0],
      ['online', false, '65', 0],
    ]);
  });
});

describe('scripts/import-gtfs.ts', () => {
  it('imports the demo GTFS-Fares feed as a new policy version, idempotently, and taps are rated with it', async () => {
    const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import-gtfs.ts', ...args], { env: { ...process.env, DATABASE_URL: urlFor(sys.dbName) } });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => resolve({ code, out, err }));
      });
    const args = ['test/fixtures/gtfs/demo', '--version', 'gtfs-demo-test', '--effective-from', daysAgo(3)];
    const first = await run(args);
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ version: 'gtfs-demo-test', stored: 'new', base: 'demo-2026-01' });
    const again = await run(args);
    expect(JSON.parse(again.out)).toMatchObject({ stored: 'already stored' });
    const clash = await run(['test/fixtures/gtfs/demo', '--version', 'gtfs-demo-test', '--effective-from', daysAgo(-30)]);
    expect(clash.code).toBe(1);
    expect((await run(['test/fixtures/gtfs/demo', '--version', 'x'])).code).toBe(2);

    await sys.transit.service.reloadPolicies();
    const l101 = await gate(sys.http, 'L1-01');
    const zjs = await gate(sys.http, 'ZJS');
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    // L1-01 → ZJS: 11.2 km, 400 by distance bands; WEST → CORE in the feed's zones: 300.
    const journey = async (date: string): Promise<Record<string, unknown>> => {
      await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: l101.headers, payload: { tapId: `gi-${date}`, cardNo, tappedAt: at('10:00', date), direction: 'in' } });
      const res = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: zjs.headers, payload: { tapId: `go-${date}`, cardNo, tappedAt: at('10:30', date), direction: 'out' } });
      return res.json() as Record<string, unknown>;
    };
    expect(await journey(daysAgo(4))).toMatchObject({ approved: true, fare: 400 });
    expect(await journey(daysAgo(2))).toMatchObject({ approved: true, fare: 300 });
  });
});
