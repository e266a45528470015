// Migration numbers are unique, and a database that recorded the two old 0003 migrations (before
// they were folded into 0003_iso_taps) migrates on without running anything again.
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { foldedMigrations, migrate, migrationsDir, MigrationStateError } from '../../src/adapters/postgres/migrate.js';
import { createDatabase, dropDatabase } from '../support/system.js';
import { adminUrl, urlFor } from '../support/db-names.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

const files = () => readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const recorded = (url: string) => withClient(url, async (c) => (await c.query<{ name: string }>(`SELECT name FROM pgmigrations ORDER BY run_on, id`)).rows.map((r) => r.name));

describe('migrations', () => {
  it('have unique numbers (a letter after the digits, as 0014b, is its own number)', () => {
    const numbers = files().map((f) => /^(\d+[a-z]?)_/.exec(f)![1]!);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers).toContain('0003');
    expect(files().filter((f) => f.startsWith('0003'))).toEqual(['0003_iso_taps']);
  });

  it('a new database records every file once, in order', async () => {
    const name = `cct_${process.pid}_mig_fresh`;
    created.push(name);
    await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE "${name}"`));
    await migrate(urlFor(name));
    expect([...(await recorded(urlFor(name)))].sort()).toEqual([...files()].sort());
  });

  it('a database that recorded 0003_iso and 0003_taps gets the folded name and runs nothing again', async () => {
    const name = await createDatabase();
    created.push(name);
    const url = urlFor(name);
    // The state before the fold: the two old names in the new one's place.
    await withClient(url, async (c) => {
      await c.query(`UPDATE pgmigrations SET name = '0003_iso' WHERE name = '0003_iso_taps'`);
      await c.query(`INSERT INTO pgmigrations (name, run_on) SELECT '0003_taps', run_on FROM pgmigrations WHERE name = '0003_iso'`);
    });
    const before = await recorded(url);
    expect(before).toContain('0003_taps');
    await migrate(url); // the old runner failed here: "relation iso_messages already exists"
    const after = await recorded(url);
    expect([...after].sort()).toEqual([...files()].sort());
    expect(after.filter((n) => n === foldedMigrations[0]!.name)).toHaveLength(1);
    await migrate(url); // idempotent
    expect(await recorded(url)).toEqual(after);
  });

  it('refuses a database that recorded only part of a folded migration, naming what is missing', async () => {
    const name = await createDatabase();
    created.push(name);
    const url = urlFor(name);
    await withClient(url, (c) => c.query(`UPDATE pgmigrations SET name = '0003_iso' WHERE name = '0003_iso_taps'`));
    const failure = await migrate(url).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationStateError);
    expect((failure as Error).message).toContain('0003_taps');
    expect(await recorded(url)).toContain('0003_iso'); // nothing changed
  });
});
