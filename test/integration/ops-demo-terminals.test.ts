// The demo terminals file (var/demo-terminals.json) holds the keys printed to a new user. The
// database is the truth: a file left from another database (a fresh one, an old file) is not
// trusted, its terminals are seeded anew and the file rewritten, so the printed keys authenticate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PgDemoSeed } from '../../src/adapters/postgres/demo-seed.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { bearer } from '../support/fixtures.js';
import { seedDemo, type DemoTerminal } from '../../src/app/bootstrap.js';

let sys: TestSystem;
let dir: string;

beforeAll(async () => {
  sys = await createTestSystem();
  dir = await mkdtemp(path.join(os.tmpdir(), 'demo-terminals-'));
});

afterAll(async () => {
  await sys?.destroy();
  await rm(dir, { recursive: true, force: true });
});

const seed = (terminalsFile: string) => seedDemo({ store: new PgDemoSeed(sys.pool), registry: sys.registry, admin: sys.admin, ledger: sys.ledger, secrets: sys.secrets, clock: sys.clock, log: sys.log, count: 4, terminalsFile });
const dailyTotals = (apiKey: string) => sys.http.inject({ method: 'POST', url: '/v1/terminals/daily-totals', headers: bearer(apiKey), payload: { businessDate: '2026-03-02', count: 0, amount: 0 } });
const readTerminals = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as DemoTerminal[];

describe('demo terminals file', () => {
  it('on a fresh database, a file from another database is replaced: the printed keys authenticate', async () => {
    const file = path.join(dir, 'stale.json');
    const stale = [{ terminalId: 'BUS00001', kind: 'bus', apiKey: 'k'.repeat(43), mak: '00'.repeat(16), tpk: '00'.repeat(16), tmk: '00'.repeat(16) }];
    await writeFile(file, JSON.stringify(stale));
    expect((await dailyTotals(stale[0]!.apiKey)).statusCode).toBe(401);

    await seed(file);
    const terminals = await readTerminals(file);
    const bus = terminals.find((t) => t.terminalId === 'BUS00001')!;
    expect(bus.apiKey).not.toBe(stale[0]!.apiKey);
    expect(terminals.map((t) => t.terminalId)).toEqual(expect.arrayContaining(['BUS00001', 'POS00001', 'KIOSK001']));
    expect(await sys.registry.terminal('BUS00001')).not.toBeNull();
    const answer = await dailyTotals(bus.apiKey);
    expect(answer.statusCode, answer.body).not.toBe(401);
    expect(answer.statusCode, answer.body).toBe(200);
  });

  it('a file whose keys verify against the database is kept as it is', async () => {
    const file = path.join(dir, 'stale.json');
    const before = await readFile(file, 'utf8');
    await seed(file);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});
