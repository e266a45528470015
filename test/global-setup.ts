// Once per test run: a migrated template database that each test file clones (CREATE DATABASE
// … TEMPLATE), so every file has its own database against the real PostgreSQL. Names carry the
// owning process id, so test runs side by side never drop each other's databases.
import pg from 'pg';
import { migrate } from '../src/adapters/postgres/migrate.js';
import { adminUrl, urlFor } from './support/db-names.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const templateDb = `cct_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    // Databases left by earlier runs that were killed (their process is gone).
    const stale = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'cct\\_%'`);
    for (const row of stale.rows) {
      const pid = Number(/^cct_(?:tpl_)?(\d+)/.exec(row.datname)?.[1] ?? '0');
      if (pid > 0 && !alive(pid)) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    }
    await admin.query(`DROP DATABASE IF EXISTS "${templateDb}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${templateDb}"`);
  } finally {
    await admin.end();
  }
  await migrate(urlFor(templateDb));
  // Test workers are started after this and inherit the environment.
  process.env.CCT_TEMPLATE_DB = templateDb;
  return async () => {
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${templateDb}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
}
