// scripts/import-gtfs.ts on real-shaped feeds: a wrong path is one clear line (not an ENOENT stack),
// an unregistered agency is mapped with a warning and the mapping is stored with the feed, and a
// feed the engine cannot rate is refused naming file, row and field, with nothing stored.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { urlFor } from '../support/db-names.js';
import { TransitStore } from '../../src/adapters/postgres/transit-store.js';
import { policiesOf, type GtfsPolicyBody } from '../../src/app/transit-policies.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => sys?.destroy());

const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import-gtfs.ts', ...args], { env: { ...process.env, DATABASE_URL: urlFor(sys.dbName) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });

describe('scripts/import-gtfs.ts', () => {
  it('a missing directory or a file instead of one: exit 2 with one line naming it', async () => {
    const missing = await run(['test/fixtures/gtfs/nowhere', '--version', 'v1', '--effective-from', '2026-04-01']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^import-gtfs: test\/fixtures\/gtfs\/nowhere: no such directory/);
    expect(missing.err).not.toMatch(/ENOENT|\n\s+at /);
    const file = await run(['test/fixtures/gtfs/demo/routes.txt', '--version', 'v1', '--effective-from', '2026-04-01']);
    expect(file.code).toBe(2);
    expect(file.err).toMatch(/is not a directory/);
  });

  it('maps an unregistered agency with a warning and stores the mapping; a re-import on the server maps the same', async () => {
    const res = await run(['test/fixtures/gtfs/county-cash', '--version', 'county-test', '--effective-from', '2026-04-01']);
    expect(res.code, res.err).toBe(0);
    expect(res.err).toContain('import-gtfs: warning: routes.txt row 1 agency_id: agency XCBUS is not a registered operator; its bus routes are mapped to ZZBUS');
    expect(res.err).toContain('import-gtfs: warning: fare_leg_rules.txt row 3 fare_product_id night_cash: product night_cash has no citizen-card price');
    expect(JSON.parse(res.out)).toMatchObject({ version: 'county-test', stored: 'new', busRoutes: 2, agencyOperators: { XCBUS: 'ZZBUS' }, warnings: 2 });
    const rows = await new TransitStore(sys.pool).policies();
    const row = rows.find((r) => r.version === 'county-test')!;
    expect((row.body as GtfsPolicyBody).agencyOperators).toEqual({ XCBUS: 'ZZBUS' });
    const stored = policiesOf(rows, (version, error) => {
      throw new Error(`${version}: ${(error as Error).message}`);
    }).find((p) => p.version === 'county-test')!;
    expect(stored.bus.routes.map((r) => [r.routeId, r.operatorId, r.fareFen])).toEqual([
      ['X1', 'ZZBUS', 150n],
      ['X2', 'ZZBUS', 500n],
    ]);
    // Told which operator: no warning about the agency.
    const told = await run(['test/fixtures/gtfs/county-cash', '--version', 'county-told', '--effective-from', '2026-04-01', '--agency', 'XCBUS=ZZTAXI']);
    expect(told.code, told.err).toBe(0);
    expect(told.err).not.toContain('agency XCBUS');
    expect(JSON.parse(told.out)).toMatchObject({ agencyOperators: { XCBUS: 'ZZTAXI' } });
  });

  it('refuses the peak-metro feed naming file, row and field, and stores nothing', async () => {
    const res = await run(['test/fixtures/gtfs/peak-metro', '--version', 'peak-test', '--effective-from', '2026-04-01']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^import-gtfs: fare policy stop_areas\.txt row 3 stop_id: stop ZJS is in areas CORE and WEST/);
    expect(res.err.trim().split('\n')).toHaveLength(1);
    const rows = await new TransitStore(sys.pool).policies();
    expect(rows.some((r) => r.version === 'peak-test')).toBe(false);
  });
});
