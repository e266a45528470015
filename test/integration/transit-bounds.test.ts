// Bounds on `tappedAt`: a tap older than the policy's offline window (offlineUploadDaysMax, 30 days
// in data/demo-network.json), or of a day before the first fare policy (effective 2026-01-01), or
// more than tapFutureSkewMsMax ahead of the server clock is refused per record with a code and a
// reason; nothing else in the batch is affected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { bus, paidFen, postTap, tapId, upload } from './transit-helpers.js';

// 12:00 Shanghai on 2026-06-15.
const clock = fixedClock(new Date('2026-06-15T04:00:00Z'));
let sys: TestSystem;
let b2: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  b2 = await bus(sys.http, 'B2');
});
afterAll(async () => {
  await sys.destroy();
});

describe('tappedAt bounds', () => {
  it('rejects, per record, a tap beyond the offline window, one before the first policy and one from the future; charges the rest', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const ok1 = { tapId: tapId('ok'), cardNo, tappedAt: '2026-05-17T08:00:00+08:00' }; // 29 days 4 h old
    const old = { tapId: tapId('old'), cardNo, tappedAt: '2026-05-15T08:00:00+08:00' }; // 31 days old
    const ancient = { tapId: tapId('anc'), cardNo, tappedAt: '2025-12-31T08:00:00+08:00' };
    const future = { tapId: tapId('fut'), cardNo, tappedAt: '2026-06-15T12:06:00+08:00' }; // 6 min ahead
    const ok2 = { tapId: tapId('ok'), cardNo, tappedAt: '2026-06-15T12:04:00+08:00' }; // 4 min ahead: clock drift
    const res = await upload(sys.http, b2, [ok1, old, ancient, future, ok2]);
    expect(res.statusCode).toBe(200);
    const results = res.json().results as { tapId: string; status: string; code: string; fare: number; reason?: string }[];
    expect(results.map((r) => [r.tapId, r.status, r.code, r.fare])).toEqual([
      [ok1.tapId, 'accepted', '00', 100],
      [old.tapId, 'rejected', '12', 0],
      [ancient.tapId, 'rejected', '12', 0],
      [future.tapId, 'rejected', '30', 0],
      [ok2.tapId, 'accepted', '00', 100],
    ]);
    expect(results[1]!.reason).toContain('offlineUploadDaysMax');
    expect(results[2]!.reason).toContain('offlineUploadDaysMax');
    expect(results[3]!.reason).toContain('tapFutureSkewMsMax');
    // B2 is 100 a ride; the two accepted rides are on different days (no transfer discount).
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
    const rows = await sys.pool.query(`SELECT tap_id FROM taps WHERE card_no = $1 AND status = 'accepted' ORDER BY tapped_at`, [cardNo]);
    expect(rows.rows.map((r) => r.tap_id)).toEqual([ok1.tapId, ok2.tapId]);
  });

  it('rejects a tap of a day before the first fare policy (2026-01-01) even within the window', async () => {
    clock.set(new Date('2026-01-10T04:00:00Z'));
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const before = { tapId: tapId('pre'), cardNo, tappedAt: '2025-12-31T08:00:00+08:00' };
    const after = { tapId: tapId('ok'), cardNo, tappedAt: '2026-01-05T08:00:00+08:00' };
    const res = await upload(sys.http, b2, [before, after]);
    const results = res.json().results as { status: string; code: string; reason?: string }[];
    expect(results.map((r) => [r.status, r.code])).toEqual([
      ['rejected', '12'],
      ['accepted', '00'],
    ]);
    expect(results[0]!.reason).toContain('before the first fare policy');
    expect(await paidFen(sys.pool, cardNo)).toBe(100);
    clock.set(new Date('2026-06-15T04:00:00Z'));
  });

  it('declines an online tap beyond the offline window with 12 and moves nothing', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const res = await postTap(sys.http, b2, { tapId: tapId('old'), cardNo, tappedAt: '2026-04-01T08:00:00+08:00' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ approved: false, code: '12' });
    expect(res.json().reason).toContain('offline window of 30 days');
    expect(await paidFen(sys.pool, cardNo)).toBe(0);
  });
});
