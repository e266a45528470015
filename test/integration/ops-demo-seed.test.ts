// The demo cards are seeded in one transaction: citizens, cards and their accounts together or
// not at all. A seeding that fails part-way (here the card insert is refused) leaves no citizen
// without a card, and the next start seeds the whole set. The pool is kept busy meanwhile, as it
// is at a start beside other work, so that statements sent one by one would land on different
// connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PgDemoSeed } from '../../src/adapters/postgres/demo-seed.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { urlFor } from '../support/db-names.js';
import { demoCardNo, seedDemo } from '../../src/app/bootstrap.js';

let sys: TestSystem;
let dir: string;
let check: pg.Client;
const count = 6;

beforeAll(async () => {
  sys = await createTestSystem();
  dir = await mkdtemp(path.join(os.tmpdir(), 'demo-seed-'));
  // A connection of the test's own: what it sees is what was committed.
  check = new pg.Client({ connectionString: urlFor(sys.dbName) });
  await check.connect();
});

afterAll(async () => {
  await check?.end();
  await sys?.destroy();
  await rm(dir, { recursive: true, force: true });
});

const seed = () => seedDemo({ store: new PgDemoSeed(sys.pool), registry: sys.registry, admin: sys.admin, ledger: sys.ledger, secrets: sys.secrets, clock: sys.clock, log: sys.log, count, terminalsFile: path.join(dir, 'terminals.json') });
const rows = async (sql: string) => Number((await check.query<{ n: string }>(sql)).rows[0]!.n);

/** Runs `work` while more callers than the pool has connections keep querying it. */
async function underLoad<T>(work: () => Promise<T>): Promise<T> {
  let running = true;
  const loop = async () => {
    while (running) await sys.pool.query('SELECT pg_sleep(0.01)');
  };
  const loops = Array.from({ length: 16 }, loop);
  try {
    return await work();
  } finally {
    running = false;
    await Promise.all(loops);
  }
}

describe('demo seeding', () => {
  it('a card insert that fails leaves no citizen committed without a card', async () => {
    await check.query(`CREATE FUNCTION refuse_cards() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'cards refused'; END $$`);
    await check.query(`CREATE TRIGGER refuse_cards BEFORE INSERT ON cards FOR EACH STATEMENT EXECUTE FUNCTION refuse_cards()`);
    await expect(underLoad(seed)).rejects.toThrow(/cards refused/);
    expect(await rows(`SELECT count(*) AS n FROM cards`)).toBe(0);
    expect(await rows(`SELECT count(*) AS n FROM citizens`)).toBe(0);
    expect(await rows(`SELECT count(*) AS n FROM accounts WHERE kind IN ('purse', 'medical')`)).toBe(0);
  });

  it('the next seeding, once cards are accepted, issues every card to its citizen', async () => {
    await check.query(`DROP TRIGGER refuse_cards ON cards`);
    await underLoad(seed);
    expect(await rows(`SELECT count(*) AS n FROM citizens`)).toBe(count);
    expect(await rows(`SELECT count(*) AS n FROM cards`)).toBe(count);
    expect(await rows(`SELECT count(*) AS n FROM citizens LEFT JOIN cards USING (citizen_id) WHERE cards.card_no IS NULL`)).toBe(0);
    const last = await check.query<{ card_no: string; purse: string }>(
      `SELECT c.card_no, a.balance::text AS purse FROM cards c JOIN accounts a ON a.kind = 'purse' AND a.owner_id = c.card_no WHERE c.card_no = $1`,
      [demoCardNo(count - 1)],
    );
    expect(last.rows[0]?.purse).toBe('10000');
  });
});
