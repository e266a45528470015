// Creates the database when missing and applies the SQL migrations in migrations/ (node-pg-migrate).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be letters, digits and underscores`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Migration files merged into one (their numbers clashed). node-pg-migrate knows a migration by its
 * file name: a database that recorded the old names would run the new file again and fail. Before
 * migrating, such a database gets the new name in place of the old ones, at the first one's place
 * in the run order (so that checkOrder holds).
 */
export const foldedMigrations: readonly { name: string; from: readonly string[] }[] = [{ name: '0003_iso_taps', from: ['0003_iso', '0003_taps'] }];

export class MigrationStateError extends Error {
  override name = 'MigrationStateError';
}

/** Renames the recorded old names of folded migrations; idempotent, and safe with several processes starting at once. */
export async function reconcileRecordedMigrations(databaseUrl: string, log: (message: string) => void = () => undefined): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = await client.query<{ t: string | null }>(`SELECT to_regclass('pgmigrations')::text AS t`);
    if (!table.rows[0]?.t) return; // a new database: nothing recorded yet
    await client.query('BEGIN');
    await client.query('LOCK TABLE pgmigrations IN EXCLUSIVE MODE');
    for (const fold of foldedMigrations) {
      const recorded = await client.query<{ id: number; name: string }>(`SELECT id, name FROM pgmigrations WHERE name = ANY($1) ORDER BY run_on, id`, [fold.from]);
      if (recorded.rows.length === 0) continue;
      const missing = fold.from.filter((name) => !recorded.rows.some((r) => r.name === name));
      if (missing.length > 0) {
        throw new MigrationStateError(
          `pgmigrations records ${recorded.rows.map((r) => r.name).join(', ')} but not ${missing.join(', ')}, which ${fold.name} also contains: apply the missing part by hand, then record ${fold.name}`,
        );
      }
      const [first, ...rest] = recorded.rows;
      await client.query(`UPDATE pgmigrations SET name = $1 WHERE id = $2`, [fold.name, first!.id]);
      await client.query(`DELETE FROM pgmigrations WHERE id = ANY($1)`, [rest.map((r) => r.id)]);
      log(`recorded migrations ${fold.from.join(' + ')} are now ${fold.name}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

export async function migrate(databaseUrl: string, log: (message: string) => void = () => undefined): Promise<void> {
  await reconcileRecordedMigrations(databaseUrl, log);
  await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    checkOrder: true,
    log,
    logger: { info: log, warn: log, error: log, debug: () => undefined },
  });
}
