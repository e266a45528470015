// The per-card offline risk budget: the hotlist job publishes, beside the hotlist, how many rides a
// card may take at one offline reader (min(balance / 500, 10), halved after a recent debt; 500 fen
// is the dearest ride of data/demo-network.json: the metro maximum), versioned as a delta; the bus
// reader program enforces it while offline; the job reports the exposure the budgets allow.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, bearer, issueCard } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { bus } from './transit-helpers.js';
import { fare, removeReports, runJob } from './jobs-support.js';

const clock = fixedClock(new Date('2026-07-01T02:00:00Z'));
let sys: TestSystem;
let port: number;
let stateDir: string;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  await sys.http.listen({ port: 0, host: '127.0.0.1' });
  port = (sys.http.server.address() as { port: number }).port;
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'cc-budget-'));
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
  await rm(stateDir, { recursive: true, force: true });
});

describe('offline risk budgets', () => {
  it('are published as a delta beside the hotlist, enforced by an offline reader, with the exposure they allow', async () => {
    const { cardNo: a } = await issueCard(sys.http, { balance: 250 }); // below one 500 ride: 0
    const { cardNo: b } = await issueCard(sys.http, { balance: 5000 }); // 10, the most
    const { cardNo: c } = await issueCard(sys.http, { balance: 1200 }); // 2
    const { cardNo: d } = await issueCard(sys.http, { balance: 200 });
    await fare(sys, { cardNo: d, operatorId: 'ZZBUS', amount: 500, businessDate: '2026-06-30' }); // offline debt: −300
    const first = await runJob(sys, 'hotlist', '2026-06-30');
    expect(first.result!.offlineBudgets).toMatchObject({ changed: 2, cards: 2, rides: 12, rideMaxFen: 500, exposureMaxFen: 6000 });
    // d pays its debt and more: 1500 would be 3 rides, halved for the debt of the last 30 days: 1.
    const top = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: 'd-top', cardNo: d, amount: 1800, channel: 'bank' } });
    expect(top.json().approved, top.body).toBe(true);
    clock.set(new Date('2026-07-01T21:00:00Z'));
    const second = await runJob(sys, 'hotlist', '2026-07-01');
    expect(second.result!.offlineBudgets).toMatchObject({ changed: 1, cards: 3, rides: 13, exposureMaxFen: 6500 });

    const validator = await bus(sys.http, 'B2');
    const all = await sys.http.inject({ method: 'GET', url: '/v1/offline-budgets?since=0', headers: validator.headers });
    expect(all.statusCode, all.body).toBe(200);
    const budgets = Object.fromEntries((all.json().changes as { cardNo: string; rides: number }[]).map((x) => [x.cardNo, x.rides]));
    expect(budgets).toEqual({ [b]: 10, [c]: 2, [d]: 1 });
    const v = all.json().version as number;
    expect((await sys.http.inject({ method: 'GET', url: `/v1/offline-budgets?since=${v}`, headers: validator.headers })).json()).toEqual({ version: v, changes: [], more: false });
    const pos = await sys.http.inject({ method: 'GET', url: '/v1/offline-budgets?since=0', headers: bearer('nope') });
    expect(pos.statusCode).toBe(401);

    // The reader fetches hotlist and budgets at start, then loses its link.
    const script = path.join(stateDir, 'day.txt');
    await writeFile(script, ['offline', `08:00 tap ${c}`, `09:30 tap ${c}`, `11:00 tap ${c}`, `12:00 tap ${a}`, `12:30 tap ${d}`, `13:00 tap ${d}`, 'quit'].join('\n') + '\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'terminals/bus/main.ts', '--terminal', validator.terminalId, '--key', validator.apiKey, '--server', `http://127.0.0.1:${port}`, '--state-dir', stateDir, '--retry-ms', '60000', '--hotlist-ms', '60000', '--replay', script, '--date', '2026-07-02'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (x: Buffer) => (out += x.toString()));
    child.stderr.on('data', (x: Buffer) => (err += x.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve)), err).toBe(0);
    const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.event === 'budgets')).toMatchObject({ version: v, changes: 3 });
    expect(events.filter((e) => e.event === 'tap').map((e) => [e.mode, e.approved, e.code ?? null])).toEqual([
      ['offline', true, null],
      ['offline', true, null],
      ['offline', false, 'budget'],
      ['offline', false, 'budget'],
      ['offline', true, null],
      ['offline', false, 'budget'],
    ]);
  });
});
