// Bulk issue of benchmark cards straight into PostgreSQL (citizens, cards, purse and medical
// accounts) with opening balances as real ledger top-ups, so the trial balance stays zero.
// Idempotent: cards that exist are skipped, and each opening balance is keyed `topup`/`load-<cardNo>`.
//
//   tsx scripts/seed-cards.ts --cards 100000 [--first-serial 1] [--balance 500000] [--chunk 20000]
//   (DATABASE_URL and MASTER_KEY as for the server; the database is created and migrated if missing)
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { cardNoFromSerial } from '../src/domain/card-number.js';
import { businessDateOf } from '../src/domain/business-day.js';
import { loadConfig } from '../src/platform/config.js';
import { requestHash } from '../src/platform/hash.js';
import { hashPin, maskIdNumber, Secrets } from '../src/platform/secrets.js';
import { ensureDatabase, migrate } from '../src/adapters/postgres/migrate.js';

export const seedChunkMax = 50_000;
export const seedCardsMax = 20_000_000;
/** The demo PIN, so that citizen-app scenarios can log in with bench cards too. */
export const benchPin = '123456';

export interface SeedOptions {
  databaseUrl: string;
  masterKeyHex: string;
  cards: number;
  firstSerial?: bigint;
  balanceFen?: bigint;
  chunk?: number;
  log?: (message: string) => void;
  now?: Date;
}

export interface SeedReport {
  requested: number;
  cardsCreated: number;
  balancesLoaded: number;
  skippedForeign: number;
  ms: number;
}

/** The serial range's card numbers, in serial order (what a load scenario picks from). */
export function benchCardNos(cards: number, firstSerial = 1n): string[] {
  const out = new Array<string>(cards);
  for (let i = 0; i < cards; i++) out[i] = cardNoFromSerial(firstSerial + BigInt(i));
  return out;
}

/** A fake 18-character resident id number per serial ('99' prefix: no real region code). */
export function benchIdNumber(serial: bigint): string {
  return `99${serial.toString().padStart(15, '0')}X`;
}

const cardsSql = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::text[])
    AS t(card_no, name, hmac, enc, masked)
), fresh AS (
  SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM cards c WHERE c.card_no = i.card_no)
), cit AS (
  INSERT INTO citizens (name, id_number_hmac, id_number_enc, id_number_masked, insured)
  SELECT name, hmac, enc, masked, true FROM fresh
  ON CONFLICT (id_number_hmac) DO NOTHING
  RETURNING citizen_id, id_number_hmac
), ins AS (
  INSERT INTO cards (card_no, citizen_id, card_type, expires_on, pin_hash)
  SELECT f.card_no, coalesce(cit.citizen_id, old.citizen_id), 'adult', $6::date, $7
    FROM fresh f
    LEFT JOIN cit ON cit.id_number_hmac = f.hmac
    LEFT JOIN citizens old ON old.id_number_hmac = f.hmac
  ON CONFLICT (card_no) DO NOTHING
  RETURNING card_no
), acc AS (
  INSERT INTO accounts (kind, owner_id)
  SELECT k, card_no FROM ins CROSS JOIN (VALUES ('purse'), ('medical')) AS v(k)
  ON CONFLICT (kind, owner_id) DO NOTHING
)
SELECT count(*)::int AS created FROM ins`;

// Opening balances only for the cards of this seed (card and citizen id number match), each a
// 'topup' transfer clearing:counter → purse; the purses and the clearing account move by the
// inserted amounts only, so a re-run adds nothing.
const balancesSql = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[]) AS t(card_no, hmac, request_hash)
), mine AS (
  SELECT i.card_no, i.request_hash, a.account_id
    FROM input i
    JOIN cards c ON c.card_no = i.card_no
    JOIN citizens z ON z.citizen_id = c.citizen_id AND z.id_number_hmac = i.hmac
    JOIN accounts a ON a.kind = 'purse' AND a.owner_id = i.card_no
), ins AS (
  INSERT INTO transfers (op_kind, op_id, leg, debit_account_id, credit_account_id, amount, card_no,
                         terminal_id, business_date, request_hash, detail)
  SELECT 'topup', 'load-' || m.card_no, 0, $4::int8, m.account_id, $5::int8, m.card_no, NULL, $6::date,
         m.request_hash, $7::jsonb
    FROM mine m
  ON CONFLICT (op_kind, op_scope, op_id, leg) DO NOTHING
  RETURNING credit_account_id, amount
), purses AS (
  UPDATE accounts a SET balance = a.balance + i.amount, updated_at = now()
    FROM ins i WHERE a.account_id = i.credit_account_id
  RETURNING a.account_id
), clearing AS (
  UPDATE accounts SET balance = balance - (SELECT coalesce(sum(amount), 0) FROM ins)::int8, updated_at = now()
   WHERE account_id = $4::int8 AND EXISTS (SELECT 1 FROM ins)
  RETURNING account_id
)
SELECT (SELECT count(*) FROM purses)::int AS loaded, (SELECT count(*) FROM mine)::int AS mine`;

export async function seedCards(options: SeedOptions): Promise<SeedReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const cards = options.cards;
  const firstSerial = options.firstSerial ?? 1n;
  const balanceFen = options.balanceFen ?? 500_000n;
  const chunk = Math.min(options.chunk ?? 20_000, seedChunkMax);
  if (!Number.isSafeInteger(cards) || cards < 1 || cards > seedCardsMax) throw new RangeError(`cards must be 1..${seedCardsMax}`);
  if (firstSerial < 1n) throw new RangeError('first serial must be ≥ 1');
  if (balanceFen <= 0n) throw new RangeError('balance must be positive');
  const secrets = new Secrets(options.masterKeyHex);
  const now = options.now ?? new Date();
  const businessDate = businessDateOf(now);
  const expiresOn = `${now.getUTCFullYear() + 5}-12-31`;
  const pinHash = await hashPin(benchPin);
  const detail = JSON.stringify({ channel: 'counter', amount: balanceFen.toString(), purseAfter: balanceFen.toString(), medicalAfter: '0', load: true });

  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  const report: SeedReport = { requested: cards, cardsCreated: 0, balancesLoaded: 0, skippedForeign: 0, ms: 0 };
  try {
    const clearing = await client.query<{ account_id: string }>(`SELECT account_id::text FROM accounts WHERE kind = 'clearing' AND owner_id = 'counter'`);
    const clearingId = clearing.rows[0]?.account_id;
    if (!clearingId) throw new Error('account clearing:counter is missing (is the database migrated?)');
    // Chunks commit in serial order, so when the first and the last card are loaded and the table
    // holds enough cards, an earlier run completed: skip the chunk-by-chunk check.
    const ends = [cardNoFromSerial(firstSerial), cardNoFromSerial(firstSerial + BigInt(cards) - 1n)];
    const done = await client.query<{ loaded: number; total: string }>(
      `SELECT (SELECT count(*)::int FROM transfers WHERE op_kind = 'topup' AND op_id = ANY($1) AND leg = 0) AS loaded,
              (SELECT count(*)::text FROM cards) AS total`,
      [ends.map((c) => `load-${c}`)],
    );
    if (done.rows[0]!.loaded === new Set(ends).size && BigInt(done.rows[0]!.total) >= BigInt(cards)) {
      report.ms = Date.now() - started;
      return report;
    }
    // Losing the last chunk in a crash is harmless (the run is idempotent), so skip the per-commit fsync.
    await client.query('SET synchronous_commit = off');
    for (let from = 0; from < cards; from += chunk) {
      const count = Math.min(chunk, cards - from);
      const cardNos: string[] = [];
      const serials: bigint[] = [];
      for (let i = 0; i < count; i++) {
        const serial = firstSerial + BigInt(from + i);
        serials.push(serial);
        cardNos.push(cardNoFromSerial(serial));
      }
      const hmacs = serials.map((s) => secrets.lookupHmac(benchIdNumber(s)));
      const known = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM unnest($1::text[]) AS u(card_no)
          WHERE EXISTS (SELECT 1 FROM transfers t WHERE t.op_kind = 'topup' AND t.op_id = 'load-' || u.card_no AND t.leg = 0)`,
        [cardNos],
      );
      if (known.rows[0]!.n === count) continue; // chunk complete from an earlier run
      const names = serials.map((s) => `Bench Citizen ${s}`);
      const encs = serials.map((s) => secrets.encrypt(benchIdNumber(s)));
      const masks = serials.map((s) => maskIdNumber(benchIdNumber(s)));
      const hashes = cardNos.map((cardNo) => requestHash({ cardNo, amount: balanceFen, channel: 'counter', terminalId: null }));
      await client.query('BEGIN');
      try {
        const made = await client.query<{ created: number }>(cardsSql, [cardNos, names, hmacs, encs, masks, expiresOn, pinHash]);
        const loaded = await client.query<{ loaded: number; mine: number }>(balancesSql, [cardNos, hmacs, hashes, clearingId, balanceFen.toString(), businessDate, detail]);
        await client.query('COMMIT');
        report.cardsCreated += made.rows[0]!.created;
        report.balancesLoaded += loaded.rows[0]!.loaded;
        report.skippedForeign += count - loaded.rows[0]!.mine;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      if ((from / chunk) % 10 === 9 || from + count >= cards) log(`seed: ${from + count}/${cards} cards (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    // Cards issued later through the admin API must not collide with the bench range.
    const lastSerial = firstSerial + BigInt(cards) - 1n;
    await client.query(
      `SELECT setval('card_serial', greatest($1::int8, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM card_serial), 1))`,
      [lastSerial.toString()],
    );
    if (report.balancesLoaded > 0) {
      // Every loaded purse was updated once: clear the dead versions now (autovacuum may be off).
      await client.query('VACUUM (ANALYZE) accounts');
      await client.query('ANALYZE citizens; ANALYZE cards; ANALYZE transfers');
    }
  } finally {
    await client.end();
  }
  report.ms = Date.now() - started;
  return report;
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write('usage: tsx scripts/seed-cards.ts --cards N [--first-serial S] [--balance FEN] [--chunk ROWS]\n');
    return;
  }
  const config = loadConfig();
  const cards = Number(argValue(args, '--cards') ?? '100000');
  const firstSerial = BigInt(argValue(args, '--first-serial') ?? '1');
  const balanceFen = BigInt(argValue(args, '--balance') ?? '500000');
  const chunk = Number(argValue(args, '--chunk') ?? '20000');
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const report = await seedCards({
    databaseUrl: config.databaseUrl,
    masterKeyHex: config.masterKeyHex,
    cards,
    firstSerial,
    balanceFen,
    chunk,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`seed-cards: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
