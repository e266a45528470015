// Once per test run: a migrated template database that each test file clones (CREATE DATABASE
// … TEMPLATE), so every file has its own database against the real PostgreSQL.
import pg from 'pg';
import { migrate } from '../src/adapters/postgres/migrate.js';
import { adminUrl, templateDb, urlFor } from './support/db-names.js';

export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    // Databases left by earlier runs that were killed.
    const stale = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'cct\\_%'`);
    for (const row of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS "${templateDb}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${templateDb}"`);
  } finally {
    await admin.end();
  }
  await migrate(urlFor(templateDb));
}
