// GTFS-Fares v2 import: the CSV reader, the mapping onto FarePolicy, and rating with the imported policy.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { amountToFen, importGtfsFares, parseCsv, parsePolicy, PolicyError, rateTap, type FarePolicy, type GtfsFiles, type Tap, type TapResult } from '../../src/domain/fare/index.js';

const demo = parsePolicy(JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')));
const feedDir = new URL('../fixtures/gtfs/demo/', import.meta.url);
const feed = (): GtfsFiles => Object.fromEntries(readdirSync(feedDir).filter((f) => f.endsWith('.txt')).map((f) => [f, readFileSync(new URL(f, feedDir), 'utf8')]));
const sh = (hhmm: string): Date => new Date(`2026-03-02T${hhmm}+08:00`);

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const text = '\uFEFFid,name,note\r\n1,"Route 906, ""air-conditioned""",plain\r\n2,"two\nlines",\r\n\r\n';
    expect(parseCsv(text)).toEqual([
      { id: '1', name: 'Route 906, "air-conditioned"', note: 'plain' },
      { id: '2', name: 'two\nlines', note: '' },
    ]);
  });

  it('reads LF files, a last line without newline, and empty quoted fields', () => {
    expect(parseCsv('a,b\n"",x\ny,""')).toEqual([{ a: '', b: 'x' }, { a: 'y', b: '' }]);
    expect(parseCsv('a,b\n')).toEqual([]);
    expect(parseCsv('')).toEqual([]);
  });

  it('refuses a row with the wrong number of fields or an unterminated quote, naming file and line', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'routes.txt')).toThrow('routes.txt:3: expected 2 fields, found 1');
    expect(() => parseCsv('a,b\n1,"open\n', 'routes.txt')).toThrow('routes.txt:2: unterminated quoted field');
  });
});

describe('amountToFen', () => {
  it('converts currency amounts exactly', () => {
    expect(['2.00', '2', '0.5', '-1.00', '12.34'].map((a) => amountToFen(a, 'x'))).toEqual([200n, 200n, 50n, -100n, 1234n]);
    expect(() => amountToFen('1.005', 'fare_products.txt row 1 amount')).toThrow(PolicyError);
  });
});

describe('importGtfsFares', () => {
  const imported = importGtfsFares(feed(), demo);

  it('maps bus routes to their network flat fare, preferring the transit-card price', () => {
    expect(imported.bus.routes).toEqual([
      { routeId: 'B2', name: 'Route 2', operatorId: 'ZZBUS', fareFen: 100n }, // card 1.00, not paper 1.50
      { routeId: 'B906', name: 'Route 906, "air-conditioned"', operatorId: 'ZZBUS', fareFen: 200n }, // no medium: 2 → 200
      { routeId: 'BRT1', name: 'BRT Line B1', operatorId: 'ZZBUS', fareFen: 200n },
    ]);
  });

  it('maps metro leg rules between areas to a zone table, ignoring paper-only products', () => {
    const od = imported.metro.odFares;
    expect(od?.areaOfStation).toEqual({ 'L1-01': 'WEST', 'L1-03': 'WEST', 'L1-05': 'WEST', 'L1-09': 'CORE', ZJS: 'CORE', 'L2-09': 'CORE', 'L1-18': 'OUTER', 'L2-16': 'OUTER' });
    const fare = (from: string, to: string): bigint | undefined => od?.fares.find((f) => f.fromAreaId === from && f.toAreaId === to)?.fareFen;
    expect(fare('WEST', 'WEST')).toBe(200n);
    expect(fare('WEST', 'CORE')).toBe(300n);
    expect(fare('CORE', 'WEST')).toBe(300n);
    expect(fare('WEST', 'OUTER')).toBe(400n); // priority 0 fallback; the priority-9 paper day pass has no card price
    expect(fare('OUTER', 'CORE')).toBe(400n);
    expect(od?.fares).toHaveLength(9);
    expect(imported.metro.operatorId).toBe('ZZMETRO');
  });

  it('maps the transfer rules and feed info, and keeps what GTFS cannot say from the base', () => {
    expect(imported.transfer).toEqual({ windowSeconds: 3600, discountFen: 100n }); // -1.00 product, 3600 s departure to departure
    expect(imported.version).toBe('gtfs-demo-2026-03');
    expect(imported.effectiveFrom).toBe('2026-03-01');
    expect(imported.dailyCapFen).toBe(demo.dailyCapFen);
    expect(imported.concessions).toBe(demo.concessions);
    expect(imported.metro.sameStationExit).toEqual(demo.metro.sameStationExit);
  });

  it('rates with the imported policy', () => {
    const rate = (p: FarePolicy, taps: Tap[], cardType: 'adult' | 'student' = 'adult'): (bigint | string)[] => {
      let state = null;
      const out: TapResult[] = [];
      for (const tap of taps) {
        const r = rateTap(p, { cardType }, state, tap);
        if (r.ok) state = r.state;
        out.push(r);
      }
      return out.map((r) => (r.ok ? r.fareFen : `declined ${r.code}`));
    };
    const tin = (s: string, t: string): Tap => ({ kind: 'metro-in', terminalId: `IN-${s}`, stationId: s, at: sh(t) });
    const tout = (s: string, t: string): Tap => ({ kind: 'metro-out', terminalId: `OUT-${s}`, stationId: s, at: sh(t) });
    expect(rate(imported, [{ kind: 'bus', terminalId: 'V1', routeId: 'B906', at: sh('07:00') }])).toEqual([200n]);
    expect(rate(imported, [tin('L1-01', '08:00'), tout('L1-05', '08:20')])).toEqual([0n, 200n]); // WEST → WEST
    expect(rate(imported, [tin('L1-01', '08:00'), tout('L2-16', '08:40')])).toEqual([0n, 400n]); // WEST → OUTER
    // Bus 1.00, then metro WEST → CORE 3.00 − 1.00 transfer discount within 60 min.
    expect(rate(imported, [{ kind: 'bus', terminalId: 'V1', routeId: 'B2', at: sh('08:00') }, tin('L1-03', '08:30'), tout('ZJS', '08:50')])).toEqual([100n, 0n, 200n]);
    // Student: 3.00 × 50% = 150 (concessions from the base policy).
    expect(rate(imported, [tin('L1-03', '08:30'), tout('ZJS', '08:50')], 'student')).toEqual([0n, 150n]);
    // Tap-out without tap-in at L1-03: the largest fare from WEST is 400.
    expect(rate(imported, [tout('L1-03', '09:00')])).toEqual([400n]);
    // A station in no area has no fare in this feed.
    expect(rate(imported, [tin('L1-02', '09:00')])).toEqual(['declined 12']);
  });

  it('takes networks from route_networks.txt and reads the empty area as "every area not listed"', () => {
    const files = feed();
    files['routes.txt'] = 'route_id,agency_id,route_long_name,route_type\nB2,ZZBUS,Route 2,3\nL1,ZZMETRO,Line 1,1\n';
    files['route_networks.txt'] = 'network_id,route_id\nbus_flat,B2\nmetro,L1\n';
    // No rule_priority: WEST→WEST is listed; "from empty" covers CORE and OUTER, "to empty" likewise.
    files['fare_leg_rules.txt'] = 'network_id,from_area_id,to_area_id,fare_product_id\nbus_flat,,,bus_flat\nmetro,WEST,WEST,metro_2\nmetro,,,metro_4\n';
    const p = importGtfsFares(files, demo);
    expect(p.bus.routes.map((r) => [r.routeId, r.fareFen])).toEqual([['B2', 100n]]);
    const fare = (from: string, to: string): bigint | undefined => p.metro.odFares?.fares.find((f) => f.fromAreaId === from && f.toAreaId === to)?.fareFen;
    expect(fare('WEST', 'WEST')).toBe(200n);
    expect(fare('CORE', 'OUTER')).toBe(400n);
    expect(fare('WEST', 'CORE')).toBeUndefined(); // WEST is listed as a from area, so the empty rule does not cover it
  });

  it('refuses what the engine cannot rate, naming file, row and field', () => {
    const broken = (file: string, text: string): string => {
      const files = { ...feed(), [file]: text };
      try {
        importGtfsFares(files, demo);
      } catch (e) {
        if (e instanceof PolicyError) return e.message;
        throw e;
      }
      return 'accepted';
    };
    expect(broken('fare_products.txt', 'fare_product_id,amount,currency\nbus_flat,1.00,USD\n')).toBe('fare policy fare_products.txt row 1 currency: USD is not CNY');
    expect(broken('fare_leg_rules.txt', 'network_id,from_timeframe_group_id,fare_product_id\nbus_flat,peak,bus_flat\n')).toMatch(/fare_leg_rules.txt row 1 from_timeframe_group_id: timeframes are not supported/);
    expect(broken('fare_transfer_rules.txt', 'from_leg_group_id,to_leg_group_id,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id\nbus,metro,3600,1,0,transfer_discount\n')).toMatch(
      /row 1 fare_transfer_type: only 1/,
    );
    expect(broken('routes.txt', 'route_id,agency_id,route_type,network_id\nT1,ZZBUS,0,tram\n')).toMatch(/route_type 0 is neither bus nor metro/);
    expect(broken('routes.txt', 'route_id,agency_id,route_type,network_id\nB9,ZZBUS,3,nowhere\n')).toMatch(/no fare leg rule for bus route B9/);
    expect(broken('stop_areas.txt', 'area_id,stop_id\nWEST,L1-01\nCORE,L1-01\n')).toMatch(/stop L1-01 is in areas WEST and CORE/);
    const { ['fare_leg_rules.txt']: _, ...noLegRules } = feed();
    expect(() => importGtfsFares(noLegRules, demo)).toThrow('fare policy fare_leg_rules.txt: file is missing from the feed');
  });
});
