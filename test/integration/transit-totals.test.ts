// Validator daily totals (DESIGN §8, §14): POST /v1/terminals/daily-totals with the terminal's token,
// and reconcile-terminals naming missing, extra and wrong-amount taps from it; a POS uploads its
// transaction list after a mismatch the same way. By hand: B2 is 100 a ride.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, kiosk, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { at, bus, tap } from './transit-helpers.js';
import { removeReports, runJob } from './jobs-support.js';

const d = '2026-05-20';
const clock = fixedClock(new Date(`${d}T04:00:00Z`)); // 12:00 Shanghai
let sys: TestSystem;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

const report = (t: RegisteredTerminal, body: Record<string, unknown>) => sys.http.inject({ method: 'POST', url: '/v1/terminals/daily-totals', headers: t.headers, payload: body });

describe('POST /v1/terminals/daily-totals and reconcile-terminals', () => {
  it('names the missing, extra and wrong-amount taps of a validator; matches one that agrees; names a POS list’s missing payment', async () => {
    const v1 = await bus(sys.http, 'B2');
    const v2 = await bus(sys.http, 'B2');
    const cards = await Promise.all(Array.from({ length: 4 }, () => issueCard(sys.http, { balance: 1000 })));
    const ids = ['tA', 'tB', 'tC'];
    for (let i = 0; i < 3; i++) expect(await tap(sys.http, v1, cards[i]!.cardNo, at(`08:0${i}`, d), { tapId: ids[i]! })).toMatchObject({ approved: true, fare: 100 });
    expect(await tap(sys.http, v2, cards[3]!.cardNo, at('09:00', d), { tapId: 'tD' })).toMatchObject({ approved: true, fare: 100 });
    const pos = await retailPos(sys.http);
    const pay = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'p-1', cardNo: cards[0]!.cardNo, amount: 250 } });
    expect(pay.json().approved, pay.body).toBe(true);

    // v1 says: 3 taps for 400 fen; tA as charged, tC at 200, tX which the ledger never saw; tB left out.
    const r1 = await report(v1, { businessDate: d, count: 3, amount: 400, tapIds: ['tA', { tapId: 'tC', amount: 200 }, 'tX'] });
    expect(r1.statusCode, r1.body).toBe(200);
    expect(r1.json()).toEqual({ recorded: true, transactions: 3 });
    expect((await report(v2, { businessDate: d, count: 1, amount: 100, tapIds: ['tD'] })).statusCode).toBe(200);
    // The POS's list after its batch disagreed: p-1 and one the ledger does not have.
    expect((await report(pos, { businessDate: d, count: 2, amount: 550, tapIds: [{ tapId: 'p-1', amount: 250 }, { tapId: 'p-2', amount: 300 }] })).statusCode).toBe(200);

    clock.set(new Date(`${d}T21:00:00Z`));
    const run = await runJob(sys, 'reconcile-terminals', d);
    expect(run.state, run.error ?? '').toBe('completed');
    const byId = new Map((run.result!.mismatches as Record<string, unknown>[]).map((m) => [m.terminalId as string, m]));
    expect(byId.get(v1.terminalId)).toMatchObject({
      code: '95',
      reported: { debitCount: 3, debitFen: 400 },
      ledger: { debitCount: 3, debitFen: 300 },
      totalsMatch: false,
      hasList: true,
      counts: { missing: 1, extra: 1, wrongAmount: 1 },
      missing: [{ reference: 'tX', reportedFen: 0 }],
      extra: [{ reference: 'tB', ledgerFen: 100 }],
      wrongAmount: [{ reference: 'tC', reportedFen: 200, ledgerFen: 100 }],
    });
    expect(byId.has(v2.terminalId)).toBe(false);
    expect(byId.get(pos.terminalId)).toMatchObject({ counts: { missing: 1, extra: 0, wrongAmount: 0 }, missing: [{ reference: 'p-2', reportedFen: 300 }] });
  });

  it('refuses a bad date, unknown fields and a terminal that does not report (kiosk) without recording anything', async () => {
    const v = await bus(sys.http, 'B2');
    expect((await report(v, { businessDate: '2026-02-30', count: 0, amount: 0 })).statusCode).toBe(400);
    expect((await report(v, { businessDate: d, count: -1, amount: 0 })).statusCode).toBe(400);
    expect((await report(v, { businessDate: d, count: 1, amount: 100, extra: 1 })).statusCode).toBe(400);
    expect((await report(v, { businessDate: d, count: 2, amount: 200, tapIds: ['a', 'a'] })).statusCode).toBe(400);
    const k = await kiosk(sys.http);
    const res = await report(k, { businessDate: d, count: 0, amount: 0 });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: '58' });
    const none = await sys.http.inject({ method: 'POST', url: '/v1/terminals/daily-totals', payload: { businessDate: d, count: 0, amount: 0 } });
    expect(none.statusCode).toBe(401);
    const rows = await sys.pool.query(`SELECT count(*)::int AS n FROM terminal_totals WHERE terminal_id = ANY($1)`, [[v.terminalId, k.terminalId]]);
    expect(rows.rows[0].n).toBe(0);
  });
});
