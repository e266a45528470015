// A replayed day through the reader programs (terminals/): one bus validator offline all morning,
// a card reported lost at 10:00, a late-night metro ride whose exit gate was offline, the nightly
// jobs, then the late uploads and the next clearing. Every ride is charged exactly once at its
// fare, the operators are settled the fares minus commission, the receivables end at zero and the
// trial balance balances. Fares by hand (data/demo-network.json): B2 100 a ride; L1-01→L1-03
// 2.6 km 200; the maximum from L1-01 500; no transfer discount (legs more than 60 min apart);
// commission 0.5 % half-even per clearing.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { bus, gate, paidFen, trialBalanced } from './transit-helpers.js';
import { removeReports, runJob } from './jobs-support.js';

const d = '2026-06-01';
const next = '2026-06-02';
const clock = fixedClock(new Date(`${d}T07:00:00+08:00`));
let sys: TestSystem;
let port: number;
let stateDir: string;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  await sys.http.listen({ port: 0, host: '127.0.0.1' });
  port = (sys.http.server.address() as { port: number }).port;
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'cc-replay-'));
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
  await rm(stateDir, { recursive: true, force: true });
});

/** Runs a reader program over a script of the day; answers its events. */
async function replay(program: 'bus' | 'gate', t: RegisteredTerminal, lines: string[]): Promise<Record<string, unknown>[]> {
  const script = path.join(stateDir, `${t.terminalId}-${Date.now()}.txt`);
  await writeFile(script, `${[...lines, 'quit'].join('\n')}\n`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', `terminals/${program}/main.ts`, '--terminal', t.terminalId, '--key', t.apiKey, '--server', `http://127.0.0.1:${port}`, '--state-dir', stateDir, '--retry-ms', '60000', '--hotlist-ms', '60000', '--replay', script, '--date', d],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, err).toBe(0);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const at = (hhmm: string, date = d): Date => new Date(`${date}T${hhmm}:00+08:00`);

async function receivable(operatorId: string): Promise<number> {
  const r = await sys.pool.query(`SELECT balance::int FROM accounts WHERE kind = 'receivable' AND owner_id = $1`, [operatorId]);
  return r.rows[0]?.balance ?? 0;
}

/** What clearing moved out of an operator's receivable: to settlement (net) and to fees (commission). */
async function settled(operatorId: string): Promise<{ netFen: number; commissionFen: number }> {
  const r = await sys.pool.query<{ to: string; fen: string }>(
    `SELECT c.kind AS to, sum(t.amount)::text AS fen FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id
      WHERE t.op_kind = 'clearing' AND d.kind = 'receivable' AND d.owner_id = $1 GROUP BY c.kind
     UNION ALL
     SELECT d.kind, (-sum(t.amount))::text FROM transfers t JOIN accounts d ON d.account_id = t.debit_account_id JOIN accounts c ON c.account_id = t.credit_account_id
      WHERE t.op_kind = 'clearing' AND c.kind = 'receivable' AND c.owner_id = $1 GROUP BY d.kind`,
    [operatorId],
  );
  const sum = (kind: string) => r.rows.filter((x) => x.to === kind).reduce((s, x) => s + Number(x.fen), 0);
  return { netFen: sum('settlement'), commissionFen: sum('fees') };
}

describe('a replayed day with readers offline, a lost card and late uploads', () => {
  it('charges every ride once at its fare, settles the operators, and ends with receivables at zero and the books balanced', async () => {
    const { cardNo: c1 } = await issueCard(sys.http, { balance: 2000 });
    const { cardNo: c2 } = await issueCard(sys.http, { balance: 2000 });
    const v1 = await bus(sys.http, 'B2'); // offline all morning
    const v2 = await bus(sys.http, 'B2'); // online
    const g1 = await gate(sys.http, 'L1-01');
    const g2 = await gate(sys.http, 'L1-03');
    const g3 = await gate(sys.http, 'L1-03'); // offline in the evening

    // 07:00: v1 fetches its hotlist, then loses its link for the morning.
    const morning = await replay('bus', v1, ['offline', `07:30 tap ${c1}`, `08:00 tap ${c2}`, `10:30 tap ${c2}`]);
    expect(morning.filter((e) => e.event === 'tap').map((e) => [e.mode, e.approved])).toEqual([
      ['offline', true],
      ['offline', true],
      ['offline', true],
    ]);
    clock.set(at('09:30'));
    expect((await replay('gate', g1, [`09:00 in ${c1}`])).find((e) => e.event === 'tap')).toMatchObject({ mode: 'online', approved: true, fare: 0 });
    expect((await replay('gate', g2, [`09:20 out ${c1}`])).find((e) => e.event === 'tap')).toMatchObject({ mode: 'online', approved: true, fare: 200 });

    // 10:00: c2 is reported lost.
    clock.set(at('10:00'));
    const lost = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${c2}/status`, headers: admin, payload: { status: 'lost' } });
    expect(lost.statusCode, lost.body).toBe(200);
    clock.set(at('11:05'));
    const midday = (await replay('bus', v2, [`10:45 tap ${c2}`, `11:00 tap ${c1}`])).filter((e) => e.event === 'tap');
    expect(midday.map((e) => [e.mode, e.approved, e.code, e.fare])).toEqual([
      ['online', false, '41', 0],
      ['online', true, '00', 100],
    ]);

    // Late evening: c1 rides L1-01 → L1-03; the exit gate is offline and queues the tap-out.
    clock.set(at('23:35'));
    expect((await replay('gate', g1, [`23:30 in ${c1}`])).find((e) => e.event === 'tap')).toMatchObject({ approved: true, fare: 0 });
    expect((await replay('gate', g3, ['offline', `23:50 out ${c1}`])).find((e) => e.event === 'tap')).toMatchObject({ mode: 'offline', approved: true });

    // The nightly jobs of the 1st.
    clock.set(at('04:10', next));
    const closed = await runJob(sys, 'close-journeys', d);
    expect(closed.result).toMatchObject({ journeysClosed: 1, closedFen: 500 });
    for (const job of ['clearing', 'trial-balance']) expect((await runJob(sys, job, d)).state).toBe('completed');
    // The offline budgets published that night: c1 (1200 left after the closure) 2 rides of 500;
    // c2 is lost: none. At most 1000 fen may be ridden at one offline reader until the next night.
    const hotlist = await runJob(sys, 'hotlist', d);
    expect(hotlist.result!.offlineBudgets).toMatchObject({ cards: 1, rides: 2, rideMaxFen: 500, exposureMaxFen: 1000 });

    // 07:00 on the 2nd: the offline readers come back and upload.
    clock.set(at('07:00', next));
    const v1Up = (await replay('bus', v1, [])).find((e) => e.event === 'upload');
    expect(v1Up).toMatchObject({ sent: 3, accepted: 3, rejected: 0, left: 0 });
    const g3Up = (await replay('gate', g3, [])).find((e) => e.event === 'upload');
    expect(g3Up).toMatchObject({ sent: 1, accepted: 1, left: 0 });

    // The next clearing, on its schedule.
    clock.set(at('04:20', '2026-06-03'));
    const clearing = await runJob(sys, 'clearing', next);
    expect(clearing.state, clearing.error ?? '').toBe('completed');
    expect((await runJob(sys, 'trial-balance', next)).result).toMatchObject({ balanced: true });

    // Every ride once at its fare: c1 bus 100 + metro 200 + bus 100 + metro 200; c2 (lost at 10:00) its two morning rides.
    expect(await paidFen(sys.pool, c1)).toBe(600);
    expect(await paidFen(sys.pool, c2)).toBe(200);
    const accepted = await sys.pool.query(`SELECT card_no, count(*)::int AS n, sum(fare)::int AS fen FROM taps WHERE status = 'accepted' GROUP BY card_no ORDER BY card_no`);
    expect(Object.fromEntries(accepted.rows.map((r) => [r.card_no, [r.n, r.fen]]))).toEqual({ [c1]: [6, 100 + 200 + 100 + 200], [c2]: [2, 200] });
    const journeys = await sys.pool.query(`SELECT status, fare::int FROM journeys WHERE card_no = $1 ORDER BY entry_at`, [c1]);
    expect(journeys.rows).toEqual([
      { status: 'complete', fare: 200 },
      { status: 'complete', fare: 200 },
    ]);
    // Settlements: fares minus commission per operator (ZZBUS 400, ZZMETRO 400 at 0.5 % → 2 each).
    for (const operatorId of ['ZZBUS', 'ZZMETRO']) {
      const s = await settled(operatorId);
      expect(s.netFen + s.commissionFen, operatorId).toBe(400);
      expect(s.commissionFen, operatorId).toBe(2);
      expect(await receivable(operatorId), operatorId).toBe(0);
    }
    expect(await trialBalanced(sys.http)).toBe(true);

    // Offline exposure of the day: what readers let through offline, all of it charged (no debt left).
    const offline = await sys.pool.query(`SELECT count(*)::int AS n, coalesce(sum(fare), 0)::int AS fen FROM taps WHERE uploaded AND status = 'accepted'`);
    expect(offline.rows[0]).toEqual({ n: 4, fen: 500 });
    const debt = await sys.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE kind = 'purse' AND balance < 0`);
    expect(debt.rows[0].n).toBe(0);
  });
});
