// Pure parts of the transit area: checking tap records one by one, tap times, request hashes and
// journey ids, the Redis form of a card's day state, and the readers' command language.
import { describe, expect, it } from 'vitest';
import { checkTapRecord, checkTappedAt, journeyIdOf, tapFutureSkewMsMax, tapKindOf, tapRequestHash } from '../../src/app/transit-input.js';
import { decodeFareState, encodeFareState, freshDay, laterMs } from '../../src/app/transit-state.js';
import type { TerminalContext } from '../../src/app/terminal.js';
import { emptyDayState } from '../../src/domain/fare/index.js';
import { parseCommand } from '../../terminals/lib/script.js';

const now = new Date('2026-03-02T02:00:00Z'); // 10:00 in Shanghai
const terminal = (kind: TerminalContext['kind'], extra: Partial<TerminalContext> = {}): TerminalContext => ({
  terminalId: 'BUS00001',
  kind,
  operatorId: 'ZZBUS',
  merchantId: null,
  merchantCategory: null,
  routeId: kind === 'bus' ? 'B2' : null,
  stationId: kind === 'gate' ? 'ZJS' : null,
  ...extra,
});

describe('checkTappedAt', () => {
  it('takes RFC 3339 with a zone, up to tapFutureSkewMsMax ahead of the clock', () => {
    expect(checkTappedAt('2026-03-02T08:00:00+08:00', now)).toEqual({ ok: true, at: new Date('2026-03-02T00:00:00Z') });
    expect(checkTappedAt('2026-03-02T02:00:00.250Z', now)).toMatchObject({ ok: true });
    const edge = new Date(now.getTime() + tapFutureSkewMsMax).toISOString();
    expect(checkTappedAt(edge, now).ok).toBe(true);
    const past = checkTappedAt(new Date(now.getTime() + tapFutureSkewMsMax + 1000).toISOString(), now);
    expect(past).toMatchObject({ ok: false });
    expect(!past.ok && past.reason).toContain('tapFutureSkewMsMax');
  });

  it('refuses what is not a real date-time with a zone', () => {
    for (const text of ['2026-03-02T08:00:00', '2026-03-02 08:00:00+08:00', '2026-02-30T08:00:00+08:00', '2026-03-02T24:00:00Z', '2026-03-02T08:61:00Z', 'now', 20260302, null]) {
      expect(checkTappedAt(text, now).ok, String(text)).toBe(false);
    }
  });
});

describe('checkTapRecord', () => {
  it('builds a tap of the kind the terminal makes', () => {
    const bus = checkTapRecord({ tapId: 'a-1', cardNo: '6200000000000018', tappedAt: '2026-03-02T08:00:00+08:00' }, terminal('bus'), now, true);
    expect(bus).toMatchObject({ ok: true, tap: { tapId: 'a-1', kind: 'bus', uploaded: true } });
    const gateIn = checkTapRecord({ tapId: 'a-2', cardNo: '6200000000000018', tappedAt: '2026-03-02T08:00:00+08:00', direction: 'in' }, terminal('gate'), now, false);
    expect(gateIn).toMatchObject({ ok: true, tap: { kind: 'metro-in', direction: 'in' } });
    const cab = checkTapRecord({ tapId: 'a-3', cardNo: '6200000000000018', tappedAt: '2026-03-02T08:00:00+08:00', amount: 2350 }, terminal('taxi'), now, false);
    expect(cab).toMatchObject({ ok: true, tap: { kind: 'taxi', meterAmountFen: 2350n } });
  });

  it('rejects a malformed record with 30 and says why, keeping what it can of the tapId', () => {
    const cases: [unknown, string][] = [
      [null, 'object'],
      [[1], 'object'],
      [{ cardNo: '1', tappedAt: '2026-03-02T08:00:00Z' }, 'tapId'],
      [{ tapId: 'x y', cardNo: '1', tappedAt: '2026-03-02T08:00:00Z' }, 'tapId'],
      [{ tapId: 'x', cardNo: 6200, tappedAt: '2026-03-02T08:00:00Z' }, 'cardNo'],
      [{ tapId: 'x', cardNo: '1', tappedAt: 'soon' }, 'tappedAt'],
      [{ tapId: 'x', cardNo: '1', tappedAt: '2026-03-02T08:00:00Z', amount: 1.5 }, 'amount'],
      [{ tapId: 'x', cardNo: '1', tappedAt: '2026-03-02T08:00:00Z', direction: 'up' }, 'direction'],
      [{ tapId: 'x', cardNo: '1', tappedAt: '2026-03-02T08:00:00Z', extra: true }, 'unknown field'],
    ];
    for (const [raw, word] of cases) {
      const r = checkTapRecord(raw, terminal('bus'), now, true);
      expect(r.ok, JSON.stringify(raw)).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('30');
        expect(r.reason).toContain(word);
      }
    }
    expect(checkTapRecord({ tapId: 'x y', cardNo: '1', tappedAt: 'z' }, terminal('bus'), now, true)).toMatchObject({ ok: false, tapId: 'x y' });
  });

  it('needs a direction at a gate (30) and refuses taps at other terminals (58)', () => {
    expect(tapKindOf(terminal('gate'), undefined)).toMatchObject({ ok: false, code: '30' });
    expect(tapKindOf(terminal('pos'), undefined)).toMatchObject({ ok: false, code: '58' });
    expect(tapKindOf(terminal('kiosk'), 'in')).toMatchObject({ ok: false, code: '58' });
    expect(tapKindOf(terminal('bus'), 'in')).toEqual({ ok: true, kind: 'bus' });
  });
});

describe('ids', () => {
  it('hashes the same instant the same whatever its zone, and another amount differently', () => {
    const base = { cardNo: '6200000000000018', terminalId: 'T1', at: new Date('2026-03-02T00:00:00Z') };
    expect(tapRequestHash(base)).toBe(tapRequestHash({ ...base, at: new Date(Date.parse('2026-03-02T08:00:00+08:00')) }));
    expect(tapRequestHash({ ...base, meterAmountFen: 100n })).not.toBe(tapRequestHash({ ...base, meterAmountFen: 101n }));
    expect(tapRequestHash({ ...base, direction: 'in' })).not.toBe(tapRequestHash({ ...base, direction: 'out' }));
  });

  it('names a journey the same from every path, without the card number', () => {
    const id = journeyIdOf('6200000000000018', 'ZJS', 1_772_409_600_000, 'in');
    expect(id).toBe(journeyIdOf('6200000000000018', 'ZJS', 1_772_409_600_000, 'in'));
    expect(id).toMatch(/^J[A-Za-z0-9_-]{22}$/);
    expect(id).not.toContain('6200000000000018');
    expect(id).not.toBe(journeyIdOf('6200000000000018', 'ZJS', 1_772_409_600_000, 'out'));
    expect(id).not.toBe(journeyIdOf('6200000000000026', 'ZJS', 1_772_409_600_000, 'in'));
  });
});

describe('fare state in Redis', () => {
  it('round-trips with a new version on every write', () => {
    const state = { ...emptyDayState('2026-03-02'), transitChargedFen: '300', lastLegStartMs: 5, lastTapMs: { BUS00001: 5 } };
    const a = encodeFareState({ state, lastAtMs: 7 });
    const b = encodeFareState({ state, lastAtMs: 7 });
    expect(a.version).not.toBe(b.version);
    expect(a.version).not.toContain('|');
    expect(decodeFareState(a.raw)).toEqual({ version: a.version, raw: a.raw, state, lastAtMs: 7 });
  });

  it('reads anything else as no state (it is then rebuilt)', () => {
    for (const raw of [null, '', 'no-bar', '|{}', 'v|not json', 'v|{"businessDate":"x"}']) expect(decodeFareState(raw)).toBeNull();
    expect(decodeFareState(`v|${JSON.stringify(emptyDayState('2026-03-02'))}`)).toMatchObject({ version: 'v', lastAtMs: null });
    expect(freshDay('2026-03-02')).toEqual({ state: emptyDayState('2026-03-02'), lastAtMs: null });
    expect([laterMs(null, 3), laterMs(5, 3), laterMs(2, 3)]).toEqual([3, 5, 3]);
  });
});

describe('reader command language', () => {
  it('reads taps with an optional time, link commands and sleeps', () => {
    expect(parseCommand('08:05 tap 6200000000000018')).toEqual({ op: 'tap', cardNo: '6200000000000018', time: '08:05:00' });
    expect(parseCommand('in 6200000000000018')).toEqual({ op: 'tap', cardNo: '6200000000000018', time: null, direction: 'in' });
    expect(parseCommand('17:30:15 tap 6200000000000018 2350  # taxi')).toEqual({ op: 'tap', cardNo: '6200000000000018', time: '17:30:15', amount: 2350 });
    expect(parseCommand('offline')).toEqual({ op: 'offline' });
    expect(parseCommand('sleep 50')).toEqual({ op: 'sleep', ms: 50 });
    expect(parseCommand('   # nothing')).toBeNull();
    expect(parseCommand('tap')).toMatchObject({ error: expect.stringContaining('card') });
    expect(parseCommand('fly 1')).toMatchObject({ error: expect.stringContaining('unknown') });
    expect(parseCommand('tap 6200000000000018 -5')).toMatchObject({ error: expect.stringContaining('amount') });
  });
});
