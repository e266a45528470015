// Creates the configured database when missing and applies the migrations.
import { loadConfig } from '../src/platform/config.js';
import { ensureDatabase, migrate } from '../src/adapters/postgres/migrate.js';

const config = loadConfig();
await ensureDatabase(config.databaseUrl);
await migrate(config.databaseUrl, (message) => {
  if (/^(> )?Migrating|MIGRATION/.test(message)) process.stderr.write(`[migrate] ${message}\n`);
});
