// Imports a GTFS-Fares v2 feed as a new fare policy version (docs/transit.md):
//   npx tsx scripts/import-gtfs.ts <dir> --version <v> --effective-from YYYY-MM-DD [--base <version>] [--agency <agency_id>=<operatorId>]…
// The feed's fares are imported over a base policy (default: the latest JSON policy stored), checked
// by rating with it, and stored in fare_policies; a running server picks it up within a minute.
// Idempotent by version: the same feed again is a no-op; another feed under a stored version is refused.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/platform/config.js';
import { createPool } from '../src/adapters/postgres/db.js';
import { TransitStore } from '../src/adapters/postgres/transit-store.js';
import { policiesOf, type GtfsPolicyBody } from '../src/app/transit-policies.js';
import { importGtfsFeed, PolicyError } from '../src/domain/fare/index.js';
import { isCalendarDate } from '../src/app/jobs/calendar.js';

function usage(problem: string): never {
  process.stderr.write(`import-gtfs: ${problem}\nusage: npx tsx scripts/import-gtfs.ts <dir> --version <v> --effective-from YYYY-MM-DD [--base <version>] [--agency <agency_id>=<operatorId>]…\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { dir: string; version: string; effectiveFrom: string; base: string | null; agencyOperators: Record<string, string> } {
  let dir: string | null = null;
  const flags: Record<string, string> = {};
  const agencyOperators: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) usage(`${a} needs a value`);
      if (a === '--agency') {
        const m = /^([^=\s]+)=([A-Za-z0-9_-]+)$/.exec(value);
        if (!m) usage(`--agency ${value}: expected <agency_id>=<operatorId>`);
        agencyOperators[m[1]!] = m[2]!;
      } else flags[a.slice(2)] = value;
      i++;
    } else if (dir === null) dir = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!dir) usage('the feed directory is missing');
  const version = flags.version ?? usage('--version is missing');
  const effectiveFrom = flags['effective-from'] ?? usage('--effective-from is missing');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(version)) usage('--version must be 1–64 characters of A–Z a–z 0–9 . _ -');
  if (!isCalendarDate(effectiveFrom)) usage('--effective-from must be a date YYYY-MM-DD');
  return { dir, version, effectiveFrom, base: flags.base ?? null, agencyOperators };
}

const args = parseArgs(process.argv.slice(2));
// Checked before anything is read, so that a wrong path is one clear line, not a stack.
const dirStat = (() => {
  try {
    return statSync(args.dir);
  } catch {
    return null;
  }
})();
if (!dirStat) usage(`${args.dir}: no such directory (the unzipped feed: a directory of GTFS .txt files)`);
if (!dirStat.isDirectory()) usage(`${args.dir} is not a directory (unzip the feed first)`);
const files: Record<string, string> = {};
for (const name of readdirSync(args.dir).filter((f) => f.endsWith('.txt'))) files[name] = readFileSync(path.join(args.dir, name), 'utf8');
if (Object.keys(files).length === 0) usage(`no .txt files in ${args.dir}`);

const pool = createPool(loadConfig().databaseUrl, 2);
try {
  const store = new TransitStore(pool);
  const rows = await store.policies();
  const jsonRows = rows.filter((r) => r.source === 'json');
  const baseRow = args.base ? jsonRows.find((r) => r.version === args.base) : jsonRows.filter((r) => r.effectiveFrom <= args.effectiveFrom).at(-1) ?? jsonRows.at(-1);
  if (!baseRow) throw new Error(args.base ? `base policy ${args.base} is not stored (a JSON policy)` : 'no JSON policy is stored yet: start the server once (it stores its policy file)');
  const [base] = policiesOf([baseRow], (version, error) => {
    throw new Error(`base policy ${version}: ${(error as Error).message}`);
  });
  // Refused here, with file, row and field named, rather than at rating time.
  const operators = (await pool.query<{ operator_id: string }>('SELECT operator_id FROM operators')).rows.map((r) => r.operator_id);
  const { policy: imported, warnings, agencyOperators } = importGtfsFeed(files, base!, { operators, agencyOperators: args.agencyOperators });
  for (const warning of warnings) process.stderr.write(`import-gtfs: warning: ${warning}\n`);
  const body: GtfsPolicyBody = { baseVersion: baseRow.version, files, agencyOperators };
  const stored = await store.ensurePolicy({ version: args.version, effectiveFrom: args.effectiveFrom, source: 'gtfs', body });
  if (stored === 'different') throw new Error(`version ${args.version} is already stored with other content; choose a new version`);
  const summary = {
    version: args.version,
    effectiveFrom: args.effectiveFrom,
    base: baseRow.version,
    stored: stored === 'inserted' ? 'new' : 'already stored',
    busRoutes: imported.bus.routes.length,
    metroZoneFares: imported.metro.odFares?.fares.length ?? 0,
    transfer: imported.transfer ? { windowSeconds: imported.transfer.windowSeconds, discountFen: Number(imported.transfer.discountFen) } : null,
    agencyOperators,
    warnings: warnings.length,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} catch (error) {
  // A feed problem is one line naming file, row and field; anything else keeps its stack for a bug report.
  process.stderr.write(`import-gtfs: ${error instanceof PolicyError ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
