// Offline taps and the hotlist: an offline tap made before the card was reported lost is a ride its
// owner took (charged, not 41); one made after the report is charged only while the validator's
// hotlist (its version at upload) did not list the card yet; later ones are refused 41 and kept
// per validator. By hand: B2 is 100 a ride, no transfer discount 90 minutes apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { at, bus, paidFen, tap, tapId, trialBalanced } from './transit-helpers.js';

const d = '2026-05-11';
const clock = fixedClock(new Date(`${d}T00:00:00Z`)); // 08:00 Shanghai
let sys: TestSystem;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
});
afterAll(async () => {
  await sys.destroy();
});

const hotlistVersion = async (): Promise<number> => (await sys.http.inject({ method: 'GET', url: '/v1/hotlist?since=0', headers: admin })).json().version as number;

describe('offline taps of a card reported lost', () => {
  it('charges the rides before the report and before the validator could know; refuses the rest with 41, counted per validator', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const early = await bus(sys.http, 'B2'); // offline all morning, hotlist of 08:00
    const aware = await bus(sys.http, 'B2'); // offline too, but refreshed its hotlist after the report
    const v0 = await hotlistVersion();

    clock.set(new Date(`${d}T02:00:00Z`)); // 10:00: the citizen reports the card lost
    const lost = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    expect(lost.statusCode, lost.body).toBe(200);
    const v1 = await hotlistVersion();
    expect(v1).toBeGreaterThan(v0);
    // Online, the card is refused at once.
    expect(await tap(sys.http, await bus(sys.http, 'B2'), cardNo, at('10:05', d))).toMatchObject({ approved: false, code: '41' });

    clock.set(new Date(`${d}T04:00:00Z`)); // 12:00: the validators come back online and upload
    const before = { tapId: tapId('before'), cardNo, tappedAt: at('09:00', d) };
    const unknowing = { tapId: tapId('unknowing'), cardNo, tappedAt: at('10:30', d) };
    const r1 = await sys.http.inject({ method: 'POST', url: '/v1/taps/batch', headers: early.headers, payload: { taps: [before, unknowing], hotlistVersion: v0 } });
    expect(r1.json().results.map((r: { status: string; code: string; fare: number }) => [r.status, r.code, r.fare]), r1.body).toEqual([
      ['accepted', '00', 100],
      ['accepted', '00', 100],
    ]);
    const knowing = { tapId: tapId('knowing'), cardNo, tappedAt: at('11:00', d) };
    const noVersion = { tapId: tapId('noversion'), cardNo, tappedAt: at('11:30', d) };
    const r2 = await sys.http.inject({ method: 'POST', url: '/v1/taps/batch', headers: aware.headers, payload: { taps: [knowing], hotlistVersion: v1 } });
    expect(r2.json().results[0], r2.body).toMatchObject({ status: 'rejected', code: '41', fare: 0 });
    const r3 = await sys.http.inject({ method: 'POST', url: '/v1/taps/batch', headers: aware.headers, payload: { taps: [noVersion] } });
    expect(r3.json().results[0]).toMatchObject({ status: 'rejected', code: '41' });
    // Before: both uploads of the first validator were refused 41 too (0 charged for two real rides).
    expect(await paidFen(sys.pool, cardNo)).toBe(200);

    const refused = await sys.pool.query(`SELECT terminal_id, count(*)::int AS n FROM taps WHERE card_no = $1 AND status = 'rejected' AND code = '41' AND uploaded GROUP BY terminal_id`, [cardNo]);
    expect(refused.rows).toEqual([{ terminal_id: aware.terminalId, n: 2 }]);
    // A re-upload answers the same.
    const again = await sys.http.inject({ method: 'POST', url: '/v1/taps/batch', headers: early.headers, payload: { taps: [before, unknowing], hotlistVersion: v0 } });
    expect(again.json().results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it('refuses a hotlistVersion that is not a whole number with 400', async () => {
    const t = await bus(sys.http, 'B2');
    const res = await sys.http.inject({ method: 'POST', url: '/v1/taps/batch', headers: t.headers, payload: { taps: [], hotlistVersion: -1 } });
    expect(res.statusCode).toBe(400);
  });
});
