// Offline uploads (/v1/taps/batch) against real PostgreSQL and Redis: answers in input order,
// per-record rejections, replays, debt and the hotlist, late taps re-rating the day (DESIGN §7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { fixedClock } from '../../src/platform/clock.js';
import { admin, issueCard, kiosk, type RegisteredTerminal } from '../support/fixtures.js';
import { rateDay, parsePolicy, type Tap } from '../../src/domain/fare/index.js';
import { at, bus, gate, ledgerCounts, paidFen, purse, tap, tapId, trialBalanced, upload } from './transit-helpers.js';

let sys: TestSystem;
let b2: RegisteredTerminal;
let b906: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ clock: fixedClock(new Date('2026-03-14T12:00:00+08:00')) }); // after the file's tap days: taps older than the offline window (30 days) are refused
  b2 = await bus(sys.http, 'B2');
  b906 = await bus(sys.http, 'B906');
});
afterAll(async () => sys.destroy());

describe('POST /v1/taps/batch', () => {
  it('answers every record in input order; a malformed record is rejected with 30 and the rest go on', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const { cardNo: other } = await issueCard(sys.http, { balance: 1000 });
    const first = { tapId: tapId('up'), cardNo, tappedAt: at('10:30') };
    const taps = [
      { tapId: tapId('up'), cardNo, tappedAt: at('09:00') },
      { tapId: 'bad', cardNo, tappedAt: 'not a time' },
      first,
      { cardNo, tappedAt: at('11:00') },
      { tapId: tapId('up'), cardNo: other, tappedAt: at('09:30'), colour: 'red' },
      { tapId: tapId('up'), cardNo: other, tappedAt: at('09:30') },
      first,
      { tapId: tapId('up'), cardNo: '6200000000000001', tappedAt: at('09:30') },
      42,
    ];
    const res = await upload(sys.http, b2, taps);
    expect(res.statusCode, res.body).toBe(200);
    const results = res.json().results as { tapId: string | null; status: string; code: string; fare: number }[];
    expect(results.map((r) => [r.status, r.code, r.fare])).toEqual([
      ['accepted', '00', 100],
      ['rejected', '30', 0],
      ['accepted', '00', 100],
      ['rejected', '30', 0],
      ['rejected', '30', 0],
      ['accepted', '00', 100],
      ['duplicate', '00', 100],
      ['rejected', '14', 0],
      ['rejected', '30', 0],
    ]);
    expect(results.map((r) => r.tapId)).toEqual([taps[0], taps[1], taps[2], null, taps[4], taps[5], taps[6], taps[7], null].map((t) => (t && typeof t === 'object' && 'tapId' in t ? t.tapId : null)));
    expect(await purse(sys.http, cardNo)).toBe(800);
    expect(await purse(sys.http, other)).toBe(900);
  });

  it('changes nothing when the whole batch is uploaded again', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const taps = [
      { tapId: tapId('re'), cardNo, tappedAt: at('07:00') },
      { tapId: tapId('re'), cardNo, tappedAt: at('07:01') }, // anti-passback: rejected 65
      { tapId: tapId('re'), cardNo, tappedAt: at('09:00') },
    ];
    const first = await upload(sys.http, b2, taps);
    expect(first.json().results.map((r: { status: string; code: string }) => `${r.status}:${r.code}`)).toEqual(['accepted:00', 'rejected:65', 'accepted:00']);
    const before = { counts: await ledgerCounts(sys.pool, cardNo), purse: await purse(sys.http, cardNo) };
    const again = await upload(sys.http, b2, taps);
    expect(again.json().results.map((r: { status: string; code: string; fare: number }) => `${r.status}:${r.code}:${r.fare}`)).toEqual(['duplicate:00:100', 'rejected:65:0', 'duplicate:00:100']);
    expect({ counts: await ledgerCounts(sys.pool, cardNo), purse: await purse(sys.http, cardNo) }).toEqual(before);
    // A single retransmission of an uploaded tap answers the same too.
    const single = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: b2.headers, payload: taps[0] });
    expect(single.json()).toMatchObject({ approved: true, fare: 100 });
    expect(await ledgerCounts(sys.pool, cardNo)).toEqual(before.counts);
  });

  it('refuses more than 1,000 taps with 400 naming the limit', async () => {
    const { cardNo } = await issueCard(sys.http);
    const taps = Array.from({ length: 1001 }, (_, i) => ({ tapId: `big-${i}`, cardNo, tappedAt: at('08:00') }));
    const res = await upload(sys.http, b2, taps);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('30');
    expect(res.json().detail).toContain('1000');
    expect((await ledgerCounts(sys.pool, cardNo)).taps).toBe(0);
  });

  it('accepts a batch that drives a card into debt; the card is listed and declined online (51) until topped up', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 150 });
    const taps = ['06:00', '08:00', '10:00'].map((t) => ({ tapId: tapId('debt'), cardNo, tappedAt: at(t, '2026-03-10') }));
    const res = await upload(sys.http, b906, taps);
    expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await purse(sys.http, cardNo)).toBe(-450);
    const listed = await sys.http.inject({ method: 'GET', url: '/v1/hotlist?since=0', headers: b2.headers });
    expect(listed.json().changes).toContainEqual({ cardNo, listed: true, reason: 'debt' });
    const v1 = listed.json().version as number;
    // Online: declined even for a ride that would be free (transfer discount at 10:30 on B2).
    expect(await tap(sys.http, b2, cardNo, at('10:30', '2026-03-10'))).toMatchObject({ approved: false, code: '51' });
    const k = await kiosk(sys.http);
    const topup = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: k.headers, payload: { topupId: tapId('tu'), cardNo, amount: 1000, channel: 'kiosk' } });
    expect(topup.json()).toMatchObject({ approved: true, balance: 550 });
    const cleared = await sys.http.inject({ method: 'GET', url: `/v1/hotlist?since=${v1}`, headers: b2.headers });
    expect(cleared.json().changes).toContainEqual({ cardNo, listed: false, reason: 'cleared' });
    expect(await tap(sys.http, b2, cardNo, at('12:00', '2026-03-10'))).toMatchObject({ approved: true, fare: 100, balance: 450 });
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it('re-rates the day of a late tap and books the difference as a fare adjustment, once', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    const date = '2026-03-11';
    // Online B906 at 08:30: 200. The validator of an earlier B2 ride at 08:00 uploads late: B2 is
    // 100, and B906 now follows it within 60 minutes: 200 - 100 = 100. Paid in all: 200.
    expect(await tap(sys.http, b906, cardNo, at('08:30', date))).toMatchObject({ fare: 200, balance: 1800 });
    const late = [{ tapId: tapId('late'), cardNo, tappedAt: at('08:00', date) }];
    const res = await upload(sys.http, b2, late);
    expect(res.json().results).toEqual([{ tapId: late[0]!.tapId, status: 'accepted', code: '00', fare: 100 }]);
    expect(await purse(sys.http, cardNo)).toBe(1800);
    const adjust = await sys.pool.query(`SELECT amount::int, detail FROM transfers WHERE card_no = $1 AND op_kind = 'fare-adjust'`, [cardNo]);
    expect(adjust.rows).toHaveLength(1);
    expect(adjust.rows[0].amount).toBe(100);
    expect(adjust.rows[0].detail.explanation[0]).toContain('refunded 100');
    expect(adjust.rows[0].detail.explanation.join(' ')).toContain('transfer discount -100');
    const history = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/transactions`, headers: admin });
    expect(history.json().items.find((i: { kind: string }) => i.kind === 'fare-adjust')).toMatchObject({ amount: 100 });
    // Uploading again books nothing more; the next online tap continues from the re-rated day.
    await upload(sys.http, b2, late);
    expect((await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1 AND op_kind = 'fare-adjust'`, [cardNo])).rows[0].n).toBe(1);
    expect(await tap(sys.http, b2, cardNo, at('09:00', date))).toMatchObject({ approved: true, fare: 0 });
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
  });

  it('charges a late metro tap-in against a tap-out that was charged as without tap-in', async () => {
    const zjs = await gate(sys.http, 'ZJS');
    const l108 = await gate(sys.http, 'L1-08');
    const { cardNo } = await issueCard(sys.http, { balance: 2000 });
    const date = '2026-03-12';
    expect(await tap(sys.http, zjs, cardNo, at('09:00', date), { direction: 'out' })).toMatchObject({ fare: 400 });
    const res = await upload(sys.http, l108, [{ tapId: tapId('in'), cardNo, tappedAt: at('08:40', date), direction: 'in' }]);
    expect(res.json().results[0]).toMatchObject({ status: 'accepted', fare: 0 });
    // L1-08 → ZJS is 2.9 km: 200, so 200 of the 400 comes back.
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
    expect(await purse(sys.http, cardNo)).toBe(1800);
  });
});

describe('concurrency', () => {
  it('charges 20 concurrent taps of one card at 20 validators as rateDay rates them; the books balance', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const date = '2026-03-13';
    const validators = await Promise.all(Array.from({ length: 20 }, (_, i) => bus(sys.http, i % 3 === 0 ? 'B906' : 'B2')));
    const times = validators.map((_, i) => new Date(Date.parse(at('05:00', date)) + i * 37 * 60_000));
    const order = validators.map((_, i) => i).sort(() => Math.random() - 0.5);
    const answers = await Promise.all(order.map((i) => sys.http.inject({ method: 'POST', url: '/v1/taps', headers: validators[i]!.headers, payload: { tapId: tapId('cc'), cardNo, tappedAt: times[i]!.toISOString() } })));
    expect(answers.every((a) => a.statusCode === 200 && a.json().approved === true)).toBe(true);
    const policy = parsePolicy(sys.policy);
    const taps: Tap[] = validators.map((v, i) => ({ kind: 'bus', terminalId: v.terminalId, routeId: i % 3 === 0 ? 'B906' : 'B2', at: times[i]! }));
    const expected = rateDay(policy, { cardType: 'adult' }, taps);
    expect(expected.totalFen).toBeGreaterThan(0n);
    expect(await paidFen(sys.pool, cardNo)).toBe(Number(expected.totalFen));
    expect(await purse(sys.http, cardNo)).toBe(5000 - Number(expected.totalFen));
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});
