// Fare policies as versioned, effective-dated data (which version rates a day; GTFS versions built
// over their base), and the journeys of a rated day as the journeys table holds them. Pure.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policiesOf, policyOn } from '../../src/app/transit-policies.js';
import { journeysOf } from '../../src/app/transit-reconcile.js';
import { journeyIdOf } from '../../src/app/transit-input.js';
import type { PolicyRow } from '../../src/adapters/postgres/transit-store.js';
import { rateDay, type Tap } from '../../src/domain/fare/index.js';

const file = JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const feedDir = new URL('../fixtures/gtfs/demo/', import.meta.url);
const feed = Object.fromEntries(readdirSync(feedDir).filter((f) => f.endsWith('.txt')).map((f) => [f, readFileSync(new URL(f, feedDir), 'utf8')]));

const rows: PolicyRow[] = [
  { version: 'gtfs-2026-04', effectiveFrom: '2026-04-01', source: 'gtfs', body: { baseVersion: 'demo-2026-01', files: feed } },
  { version: 'demo-2026-01', effectiveFrom: '2026-01-01', source: 'json', body: file },
  { version: 'orphan', effectiveFrom: '2026-05-01', source: 'gtfs', body: { baseVersion: 'missing', files: feed } },
  { version: 'broken', effectiveFrom: '2026-06-01', source: 'json', body: { ...file, dailyCap: {} } },
];

describe('fare policy versions', () => {
  const errors: string[] = [];
  const policies = policiesOf(rows, (version) => errors.push(version));

  it('builds JSON versions and GTFS versions over their base; bad rows are reported, not fatal', () => {
    expect(policies.map((p) => [p.version, p.effectiveFrom])).toEqual([
      ['demo-2026-01', '2026-01-01'],
      ['gtfs-2026-04', '2026-04-01'],
    ]);
    expect(errors.sort()).toEqual(['broken', 'orphan']);
    expect(policies[1]!.metro.odFares).toBeDefined();
  });

  it('rates a business day with the latest version effective on it, else the earliest', () => {
    expect(policyOn(policies, '2026-03-31').version).toBe('demo-2026-01');
    expect(policyOn(policies, '2026-04-01').version).toBe('gtfs-2026-04');
    expect(policyOn(policies, '2027-01-01').version).toBe('gtfs-2026-04');
    expect(policyOn(policies, '2025-12-31').version).toBe('demo-2026-01');
    expect(() => policyOn([], '2026-04-01')).toThrow('no fare policy');
  });
});

describe('journeysOf', () => {
  const policy = policiesOf([rows[1]!], () => undefined)[0]!;
  const card = '6200000000000018';
  const t = (kind: Tap['kind'], stationId: string, hhmm: string): Tap => ({ kind, terminalId: `G-${stationId}`, stationId, at: new Date(`2026-03-02T${hhmm}:00+08:00`) });

  it('lists complete, incomplete and open journeys with the ids the taps carry', () => {
    const taps = [t('metro-in', 'L1-08', '08:00'), t('metro-out', 'L2-05', '08:25'), t('metro-in', 'ZJS', '12:00'), t('metro-in', 'L1-01', '18:00'), t('metro-out', 'ZJS', '19:00'), t('metro-in', 'L2-15', '21:00')];
    const open = journeysOf(card, '2026-03-02', rateDay(policy, { cardType: 'adult' }, taps));
    expect(open.map((j) => [j.entryStationId, j.exitStationId, j.status, Number(j.fareFen)])).toEqual([
      ['L1-08', 'L2-05', 'complete', 300],
      ['ZJS', null, 'incomplete', 400], // closed by the 18:00 tap-in
      ['L1-01', 'ZJS', 'complete', 400],
      ['L2-15', null, 'open', 0],
    ]);
    expect(open[0]!.journeyId).toBe(journeyIdOf(card, 'L1-08', taps[0]!.at.getTime(), 'in'));
    const closed = journeysOf(card, '2026-03-02', rateDay(policy, { cardType: 'adult' }, taps, { closeAt: new Date('2026-03-03T04:00:00+08:00') }));
    // The cap (1200) leaves 100 for the journey closed at the end of the day.
    expect(closed.at(-1)).toMatchObject({ entryStationId: 'L2-15', status: 'incomplete', fareFen: 100n });
  });

  it('names a tap-out without tap-in by its exit', () => {
    const [j] = journeysOf(card, '2026-03-02', rateDay(policy, { cardType: 'adult' }, [t('metro-out', 'ZJS', '09:00')]));
    expect(j).toMatchObject({ entryStationId: null, exitStationId: 'ZJS', status: 'incomplete', fareFen: 400n, journeyId: journeyIdOf(card, 'ZJS', Date.parse('2026-03-02T09:00:00+08:00'), 'out') });
  });
});
