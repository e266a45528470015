// Measures the clearing job on a large generated day (docs/performance.md, "Nightly jobs"):
// builds a separate database (citizencard_bigday), fills one business date with N transfers by
// generate_series (purse → operator receivable or merchant payable, balances made to agree), runs
// the real clearing runner against it, prints rows, seconds, rows/s and peak RSS, and drops the
// database. Run: npx tsx src/adapters/jobs/bigday.ts [rows, default 10000000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPool } from '../postgres/db.js';
import { migrate } from '../postgres/migrate.js';
import { AccountDirectory } from '../postgres/accounts.js';
import { LedgerWriter } from '../postgres/ledger-writer.js';
import { PgClearingSource } from './ledger-sources.js';
import { ReportDirectory } from './report-file.js';
import { runClearing } from '../../app/jobs/clearing.js';
import type { JobContext } from '../../app/jobs/ports.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';

const rows = Number(process.argv[2] ?? 10_000_000);
const cards = 1_000_000;
const merchants = 2000;
const date = '2024-05-01';
const chunkRows = 1_000_000;
const dbName = 'citizencard_bigday';

const base = new URL(loadConfig().databaseUrl);
const urlOf = (db: string) => Object.assign(new URL(base.toString()), { pathname: `/${db}` }).toString();
const t = () => performance.now();
const log = (msg: string) => process.stderr.write(`[bigday] ${msg}\n`);

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: urlOf('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await admin(`CREATE DATABASE ${dbName}`);
const pool = createPool(urlOf(dbName), 4);
try {
  await migrate(urlOf(dbName));
  let start = t();
  await pool.query(`INSERT INTO operators (operator_id, name, mode, commission_rate) VALUES
    ('ZZBUS', 'bus', 'bus', 0.005), ('ZZMETRO', 'metro', 'metro', 0.005), ('ZZTAXI', 'taxi', 'taxi', 0.01)`);
  await pool.query(`INSERT INTO merchants (merchant_id, name, category, mcc, commission_rate)
    SELECT 'M' || lpad(g::text, 13, '0'), 'merchant ' || g, 'retail', '5411', 0.006 FROM generate_series(1, $1) g`, [merchants]);
  await pool.query(`INSERT INTO accounts (kind, owner_id) SELECT 'purse', lpad(g::text, 16, '0') FROM generate_series(1, $1) g`, [cards]);
  await pool.query(`INSERT INTO accounts (kind, owner_id) SELECT 'receivable', operator_id FROM operators ORDER BY operator_id`);
  await pool.query(`INSERT INTO accounts (kind, owner_id) SELECT 'payable', merchant_id FROM merchants ORDER BY merchant_id`);
  const ids = (await pool.query<{ first_purse: bigint; first_party: bigint; parties: bigint }>(
    `SELECT (SELECT min(account_id) FROM accounts WHERE kind = 'purse') AS first_purse,
            (SELECT min(account_id) FROM accounts WHERE kind IN ('receivable', 'payable')) AS first_party,
            (SELECT count(*) FROM accounts WHERE kind IN ('receivable', 'payable')) AS parties`,
  )).rows[0]!;
  log(`parties and ${cards} cards in ${((t() - start) / 1000).toFixed(1)} s`);

  // The load goes faster without the journal's secondary indexes and constraints; they are put
  // back (and checked) before the measured run, so it reads the table as production has it.
  const saved = await pool.query<{ drop: string; create: string }>(
    `SELECT format('ALTER TABLE transfers DROP CONSTRAINT %I', conname) AS drop,
            format('ALTER TABLE transfers ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS create
       FROM pg_constraint WHERE conrelid = 'transfers'::regclass AND contype IN ('f', 'u')
     UNION ALL
     SELECT format('DROP INDEX %I', i.relname), pg_get_indexdef(i.oid)
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = 'transfers'::regclass AND NOT x.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
  );
  for (const r of saved.rows) await pool.query(r.drop);

  // Two thirds of the transfers are fares to two of the operators, a third payments spread over
  // the merchants; amounts 100–999 fen. Purse accounts ids are contiguous, as are the parties'.
  start = t();
  for (let from = 1; from <= rows; from += chunkRows) {
    const to = Math.min(rows, from + chunkRows - 1);
    await pool.query(
      `INSERT INTO transfers (op_kind, op_id, leg, debit_account_id, credit_account_id, amount, card_no, business_date, request_hash)
       SELECT CASE WHEN g % 3 < 2 THEN 'tap' ELSE 'payment' END, 'g' || g, 0,
              $3::bigint + (g % $5::bigint),
              CASE WHEN g % 3 < 2 THEN $4::bigint + (g % 3) ELSE $4::bigint + 3 + (g % ($6::bigint - 3)) END,
              100 + (g * 7919) % 900, lpad(((g % $5::bigint) + 1)::text, 16, '0'), $7::date, 'h'
         FROM generate_series($1::bigint, $2::bigint) g`,
      [from, to, ids.first_purse.toString(), ids.first_party.toString(), cards, ids.parties.toString(), date],
    );
    log(`transfers ${to} / ${rows} (${((t() - start) / 1000).toFixed(0)} s)`);
  }
  start = t();
  for (const r of saved.rows) await pool.query(r.create);
  log(`indexes and constraints back in ${((t() - start) / 1000).toFixed(0)} s`);
  // Balances as the postings say, so the books balance as the ledger writer would have left them.
  await pool.query(`UPDATE accounts a SET balance = p.delta FROM (
      SELECT account_id, sum(delta)::bigint AS delta FROM (
        SELECT credit_account_id AS account_id, amount AS delta FROM transfers
        UNION ALL SELECT debit_account_id, -amount FROM transfers) x GROUP BY account_id) p
     WHERE a.account_id = p.account_id`);
  await pool.query('VACUUM ANALYZE');
  const expected = (await pool.query<{ n: bigint; gross: bigint }>(`SELECT count(*) AS n, sum(amount)::bigint AS gross FROM transfers WHERE business_date = $1`, [date])).rows[0]!;
  log(`generated ${expected.n} transfers in ${((t() - start) / 1000).toFixed(0)} s`);

  // The clearing run itself, as the worker runs it.
  const accounts = new AccountDirectory(pool);
  const ledger = new LedgerWriter(pool, accounts, { batchRowsMax: 512, batchWaitMs: 2, queueMax: 20_000 });
  const dir = await mkdtemp(path.join(tmpdir(), 'bigday-'));
  const rssBefore = process.resourceUsage().maxRSS;
  const ctx: JobContext = {
    name: 'clearing',
    businessDate: date,
    jobId: `clearing@${date}`,
    attempt: 1,
    log: createLogger('warn'),
    reports: new ReportDirectory(dir),
    progress: async () => undefined,
    checkpoint: async () => undefined,
  };
  start = t();
  const result = await runClearing(ctx, { source: new PgClearingSource(pool), ledger });
  const seconds = (t() - start) / 1000;
  const rssPeakKb = process.resourceUsage().maxRSS;
  await ledger.close();
  await rm(dir, { recursive: true, force: true });
  if (BigInt(result.grossFen as number) !== expected.gross || result.postings !== Number(expected.n)) {
    throw new Error(`clearing disagrees with the generated day: ${JSON.stringify(result)} vs ${expected.n} rows, ${expected.gross} fen`);
  }
  const figure = {
    rows: Number(expected.n),
    parties: result.parties,
    seconds: Number(seconds.toFixed(1)),
    rowsPerSecond: Math.round(Number(expected.n) / seconds),
    peakRssMb: Math.round(rssPeakKb / 1024),
    rssBeforeMb: Math.round(rssBefore / 1024),
    grossFen: result.grossFen,
    commissionFen: result.commissionFen,
  };
  process.stdout.write(`${JSON.stringify(figure)}\n`);
} finally {
  await pool.end();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
