// Fare policy parsing (the demo-network.json shape) and the metro network: distances, bands, maximum fares.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { distanceFare, formatKm, metroNetwork, parsePolicy, PolicyError, shortestDistancesM } from '../../src/domain/fare/index.js';

type Json = Record<string, unknown>;
const demoJson = (): Json => JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')) as Json;
const policy = parsePolicy(demoJson());

/** The demo policy with the value at a dotted path replaced (or deleted when `value` is omitted), and the error it gets. */
function errorOf(path: string, ...value: unknown[]): PolicyError {
  const json = demoJson();
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node = json;
  for (const k of keys) node = node[k] as Json;
  if (value.length === 0) delete node[last];
  else node[last] = value[0];
  try {
    parsePolicy(json);
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('parsePolicy accepted a bad policy');
}

describe('parsePolicy', () => {
  it('reads the demo policy into fen, metres and seconds', () => {
    expect(policy.version).toBe('demo-2026-01');
    expect(policy.bus.routes.map((r) => [r.routeId, r.fareFen])).toEqual([['B2', 100n], ['B906', 200n], ['BRT1', 200n]]);
    expect(policy.bus.antiPassbackSeconds).toBe(300);
    expect(policy.metro.lines[0]?.stations[7]).toEqual({ stationId: 'L1-08', name: 'Zhengzhouhuochezhan', atM: 8300 }); // 8.3 km, not 8299.999…
    expect(policy.metro.fareBands).toEqual([{ uptoM: 6000, fareFen: 200n }, { uptoM: 11000, fareFen: 300n }, { uptoM: 17000, fareFen: 400n }, { uptoM: 24000, fareFen: 500n }]);
    expect(policy.metro.beyondLastBand).toEqual({ everyM: 9000, addFen: 100n });
    expect(policy.metro.sameStationExit).toEqual({ withinSeconds: 1200, fareFen: 0n });
    expect(policy.transfer).toEqual({ windowSeconds: 3600, discountFen: 100n });
    expect(policy.dailyCapFen).toEqual({ adult: 1200n, student: 600n, senior: 600n, disabled: 0n });
    expect(policy.concessions.senior).toEqual({
      percent: 0,
      peak: { percent: 50, weekdaysOnly: true, windows: [{ startMinute: 420, endMinute: 540 }, { startMinute: 1020, endMinute: 1140 }] },
    });
  });

  it('names the bad path', () => {
    expect(errorOf('bus.routes.1.fare', '2.00').path).toBe('bus.routes[1].fare');
    expect(errorOf('bus.routes.1.fare', 1.5).message).toBe('fare policy bus.routes[1].fare: must be an integer ≥ 0');
    expect(errorOf('metro.lines.0.stations.3.km', 2.0).path).toBe('metro.lines[0].stations[3].km'); // 2.0 after 2.6: not increasing
    expect(errorOf('metro.lines.1.stations.2.km', 2.5001).message).toMatch(/metre precision/);
    expect(errorOf('dailyCap.senior').path).toBe('dailyCap.senior');
    expect(errorOf('concessions.senior.peak.windows.1', '19:00-17:00').path).toBe('concessions.senior.peak.windows[1]');
    expect(errorOf('concessions.student.percent', 150).path).toBe('concessions.student.percent');
    expect(errorOf('metro.fareBands.2.uptoKm', 10).path).toBe('metro.fareBands[2]'); // 10 km after 11 km
    expect(errorOf('bus.routes.2.routeId', 'B2').message).toMatch(/duplicate route B2/);
    expect(errorOf('timezone', 'Europe/Berlin').path).toBe('timezone');
    expect(errorOf('metro').path).toBe('metro');
  });
});

describe('metro network', () => {
  const network = metroNetwork(policy.metro);

  it('measures the shortest path over the lines, changing at ZJS', () => {
    const d = shortestDistancesM(policy.metro);
    // L1-08 (8.3 on L1) → ZJS (11.2 on L1) = 2.9 km; ZJS (8.4 on L2) → L2-05 (4.8) = 3.6 km; 6.5 km.
    expect(d.get('L1-08')?.get('L2-05')).toBe(6500);
    expect(d.get('L2-05')?.get('L1-08')).toBe(6500);
    // L1-01 → L2-16: 11.2 + (18.0 − 8.4) = 20.8 km.
    expect(d.get('L1-01')?.get('L2-16')).toBe(20800);
    expect(d.get('ZJS')?.get('ZJS')).toBe(0);
    expect(d.size).toBe(33); // 18 + 16 stations, ZJS counted once
  });

  it('prices by band with inclusive upper bounds', () => {
    expect(network.fare('L2-09', 'L2-14')).toEqual({ fareFen: 200n, distanceM: 6000, basis: '6.0 km' }); // 15.5 − 9.5 = 6.0 → ≤6 → 200
    expect(network.fare('L1-01', 'L1-06')?.fareFen).toBe(300n); // 6.1 km → ≤11 → 300
    expect(network.fare('L1-08', 'L2-05')?.fareFen).toBe(300n); // 6.5 km
    expect(network.fare('L1-01', 'L2-16')?.fareFen).toBe(500n); // 20.8 km → ≤24 → 500
    expect(network.fare('L1-01', 'NOPE')).toBeUndefined();
  });

  it('adds a step for each started everyKm past the last band', () => {
    const m = policy.metro;
    expect(distanceFare(m, 24000)).toEqual({ fareFen: 500n, extra: null }); // last band, inclusive
    expect(distanceFare(m, 24001).fareFen).toBe(600n); // 1 m past 24 km starts a 9 km step: 500 + 100
    expect(distanceFare(m, 33000).fareFen).toBe(600n); // 9.0 km past: still one step
    expect(distanceFare(m, 33001).fareFen).toBe(700n); // a second step started: 500 + 2 × 100
    expect(distanceFare(m, 42100)).toEqual({ fareFen: 800n, extra: '500 + 3 × 100 per started 9.0 km past 24.0 km' }); // 18.1 km past → 3 steps
    expect(distanceFare({ ...m, beyondLastBand: null }, 42100).fareFen).toBe(500n);
  });

  it('knows the maximum fare from each station', () => {
    // From ZJS the farthest station is L1-01 at 11.2 km → ≤17 → 400.
    expect(network.maxFareFrom('ZJS')).toMatchObject({ fareFen: 400n });
    // From L2-09: L1-01 at 1.1 + 11.2 = 12.3 km → 400.
    expect(network.maxFareFrom('L2-09')).toMatchObject({ fareFen: 400n });
    // From L1-01: L1-18 at 21.3 km → 500.
    expect(network.maxFareFrom('L1-01')).toMatchObject({ fareFen: 500n });
  });

  it('is built once per policy', () => {
    expect(metroNetwork(policy.metro)).toBe(network);
  });

  it('refuses, at load, a station no line connects to the rest', () => {
    const json = demoJson();
    (json.metro as { lines: unknown[] }).lines.push({ lineId: 'L9', stations: [{ stationId: 'X1', name: 'Island', km: 0 }, { stationId: 'X2', name: 'Islet', km: 1 }] });
    expect(() => parsePolicy(json)).toThrow(/fare policy metro.lines: no path between stations L1-01 and X1/);
  });

  it('uses a zone table when the policy has one', () => {
    const zoned = metroNetwork({
      ...policy.metro,
      odFares: { areaOfStation: { A1: 'A', A2: 'A', B1: 'B' }, fares: [{ fromAreaId: 'A', toAreaId: 'B', fareFen: 300n }, { fromAreaId: 'A', toAreaId: 'A', fareFen: 200n }] },
    });
    expect(zoned.fare('A1', 'B1')).toEqual({ fareFen: 300n, distanceM: null, basis: 'zone A→B' });
    expect(zoned.fare('B1', 'A1')).toBeUndefined(); // directional: no B→A rule
    expect(zoned.maxFareFrom('A2')?.fareFen).toBe(300n);
    expect(zoned.hasStation('L1-01')).toBe(false);
  });

  it('formats km', () => {
    expect([formatKm(0), formatKm(6000), formatKm(6100), formatKm(12345)]).toEqual(['0.0', '6.0', '6.1', '12.345']);
  });
});
