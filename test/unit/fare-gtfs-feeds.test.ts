// GTFS-Fares v2 in the shapes real feeds take (test/fixtures/gtfs/county-cash, peak-metro): cash-only
// products, agencies that are not registered operators, timeframes, a stop in several areas — each
// mapped with a warning or refused naming file, row and field.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importGtfsFeed, parsePolicy, PolicyError, rateTap, type GtfsFiles } from '../../src/domain/fare/index.js';

const demo = parsePolicy(JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')));
const feed = (name: string): GtfsFiles => {
  const dir = new URL(`../fixtures/gtfs/${name}/`, import.meta.url);
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
};
const registered = { operators: ['ZZBUS', 'ZZMETRO', 'ZZTAXI'] };

function refusal(files: GtfsFiles, options = registered): string {
  try {
    importGtfsFeed(files, demo, options);
  } catch (error) {
    if (error instanceof PolicyError) return error.message;
    throw error;
  }
  return 'accepted';
}

/** The county feed as written: its night product is cash only, and no route of the feed uses it. */
const countyCardRoutes = (): GtfsFiles => feed('county-cash');

describe('county-cash feed', () => {
  it('takes the card price of a product sold for cash too, and leaves cash-only rules out with a warning', () => {
    const { policy, warnings } = importGtfsFeed(countyCardRoutes(), demo, registered);
    expect(policy.bus.routes.map((r) => [r.routeId, r.fareFen])).toEqual([
      ['X1', 150n], // card 1.50, not cash 2.00
      ['X2', 500n],
    ]);
    expect(warnings).toContainEqual(expect.stringMatching(/^fare_leg_rules\.txt row 3 fare_product_id night_cash: product night_cash has no citizen-card price \(fare_products\.txt row 4 \(fare_media_id cash, fare_media_type 0: cash\)\)/));
  });

  it('maps an agency that is not a registered operator to the single bus operator, with a warning', () => {
    const { policy, warnings, agencyOperators } = importGtfsFeed(countyCardRoutes(), demo, registered);
    expect(new Set(policy.bus.routes.map((r) => r.operatorId))).toEqual(new Set(['ZZBUS']));
    expect(agencyOperators).toEqual({ XCBUS: 'ZZBUS' });
    expect(warnings.filter((w) => w.includes('agency XCBUS'))).toEqual(['routes.txt row 1 agency_id: agency XCBUS is not a registered operator; its bus routes are mapped to ZZBUS (choose with --agency XCBUS=<operatorId>)']);
    // Rated as the county fare, credited to the mapped operator.
    const r = rateTap(policy, { cardType: 'adult' }, null, { kind: 'bus', terminalId: 'V1', routeId: 'X1', at: new Date('2026-04-02T08:00:00+08:00') });
    expect(r.ok && r.fareFen).toBe(150n);
  });

  it('maps the agency as told, and refuses a mapping to an operator that is not registered', () => {
    const told = importGtfsFeed(countyCardRoutes(), demo, { ...registered, agencyOperators: { XCBUS: 'ZZTAXI' } });
    expect(told.policy.bus.routes.every((r) => r.operatorId === 'ZZTAXI')).toBe(true);
    expect(told.warnings.some((w) => w.includes('agency XCBUS'))).toBe(false);
    expect(refusal(countyCardRoutes(), { ...registered, agencyOperators: { XCBUS: 'NOBODY' } } as never)).toBe(
      'fare policy routes.txt row 1 agency_id: agency XCBUS is mapped to NOBODY, which is not a registered operator',
    );
  });

  it('refuses an unregistered agency when there is no single operator to map it to', () => {
    const twoBusOperators = { ...demo, bus: { ...demo.bus, routes: [...demo.bus.routes, { routeId: 'Z9', name: 'other', operatorId: 'OTHERBUS', fareFen: 100n }] } };
    expect(() => importGtfsFeed(countyCardRoutes(), twoBusOperators, { operators: ['ZZBUS', 'OTHERBUS'] })).toThrow(
      /routes\.txt row 1 agency_id: agency XCBUS is not a registered operator and there is no single bus operator to map it to \(ZZBUS, OTHERBUS\): map it with --agency XCBUS=<operatorId>/,
    );
  });

  it('refuses a bus route whose only fare is cash, naming the route and the product', () => {
    const files = feed('county-cash');
    files['routes.txt'] += 'N1,XCBUS,N1,Night bus N1,3,night\n';
    expect(refusal(files)).toMatch(
      /^fare policy routes\.txt row 3 route_id: bus route N1 has fares only for other media than the citizen card \(fare_leg_rules\.txt row 3 fare_product_id night_cash: fare_products\.txt row 4 \(fare_media_id cash, fare_media_type 0: cash\)\)/,
    );
  });
});

describe('peak-metro feed', () => {
  it('refuses a stop in two areas, naming file, row and field', () => {
    expect(refusal(feed('peak-metro'))).toMatch(/^fare policy stop_areas\.txt row 3 stop_id: stop ZJS is in areas CORE and WEST; one area per station is supported/);
  });

  it('refuses a leg rule with a timeframe, naming file, row, field and the timeframe group', () => {
    const files = { ...feed('peak-metro'), 'stop_areas.txt': 'area_id,stop_id\nWEST,L1-01\nCORE,ZJS\n' };
    expect(refusal(files)).toMatch(/^fare policy fare_leg_rules\.txt row 3 from_timeframe_group_id: timeframes are not supported .*timeframe group peak of timeframes\.txt/);
    const to = { ...files, 'fare_leg_rules.txt': 'network_id,from_area_id,to_area_id,to_timeframe_group_id,fare_product_id\nmetro,,,peak,metro_3\n' };
    expect(refusal(to)).toMatch(/^fare policy fare_leg_rules\.txt row 1 to_timeframe_group_id: /);
  });

  it('without the peak rule and the overlap, imports the zones and says the timeframes file is unused', () => {
    const files = {
      ...feed('peak-metro'),
      'stop_areas.txt': 'area_id,stop_id\nWEST,L1-01\nCORE,ZJS\n',
      'fare_leg_rules.txt': 'network_id,from_area_id,to_area_id,fare_product_id,rule_priority\nmetro,WEST,WEST,metro_2,1\nmetro,CORE,CORE,metro_2,1\nmetro,,,metro_3,0\n',
    };
    const { policy, warnings } = importGtfsFeed(files, demo, registered);
    expect(policy.metro.odFares?.areaOfStation).toEqual({ 'L1-01': 'WEST', ZJS: 'CORE' });
    expect(policy.metro.odFares?.fares.find((f) => f.fromAreaId === 'WEST' && f.toAreaId === 'CORE')?.fareFen).toBe(300n);
    expect(warnings).toEqual(['timeframes.txt: no leg rule refers to a timeframe; the file is not used']);
  });
});
