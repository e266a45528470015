// Closed-loop benchmark of the authorization core beside its two baselines, in one run on one
// machine (docs/performance.md, "Closed loop"): the HTTP ceiling (a fastify route that answers the
// same JSON and does nothing), the core's POST /v1/payments (1-fen payments on funded cards), and a
// naive ledger (pgbench: one transaction per payment, 16 clients, its own scratch database); then
// batch taps (/v1/taps/batch, 1,000 taps a request) and ISO 8583 purchases on 50 pipelined
// connections. Ratios in one run are the result; a lone absolute figure on a shared machine is not.
//   npm run loadtest:closed -- [--duration 10] [--connections 128] [--phases ceiling,core,naive,taps,iso]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { flushPrefix, prepareDatabase, seed, vacuumAccounts, warmCards } from '../lib/bench-db.js';
import { CpuMeter, type CpuReport } from '../lib/cpu.js';
import { machineInfo } from '../lib/machine.js';
import { acquireRunLock } from '../lib/run-lock.js';
import { freePort, killStartedServers, ServerProcess } from '../lib/server-process.js';
import { benchCardNos } from '../../scripts/seed-cards.js';
import { devAdminToken, loadConfig } from '../../src/platform/config.js';
import { committedTaps, runBatchTaps, runIsoPurchases, type DriverResult } from './drivers.js';

const run = promisify(execFile);

export const paymentsCardsDefault = 300;
export const tapCardsMax = 400_000;
export const pgbenchClients = 16;

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  cards: number;
  phases: Set<string>;
  workers: string | undefined;
}

function parse(argv: string[]): Options {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help')) {
    process.stdout.write(
      'npm run loadtest:closed -- [--duration S=10] [--warmup S=3] [--connections N=128] [--threads N=1] [--cards N=300]\n' +
        '                           [--phases ceiling,core,naive,taps,iso] [--workers N (WEB_CONCURRENCY of the core)]\n',
    );
    process.exit(0);
  }
  const int = (name: string, fallback: number, max: number) => {
    const raw = get(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer 1..${max}`);
    return n;
  };
  return {
    durationS: int('duration', 10, 600),
    warmupS: int('warmup', 3, 60),
    connections: int('connections', 128, 4096),
    threads: int('threads', 1, 16),
    cards: int('cards', paymentsCardsDefault, 100_000),
    phases: new Set((get('phases') ?? 'ceiling,core,naive,taps,iso').split(',')),
    workers: get('workers'),
  };
}

const adminToken = process.env.ADMIN_TOKEN ?? devAdminToken;
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/citizencard';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = 'lt:closed:';

function dbUrl(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function log(line: string): void {
  process.stderr.write(`[closed ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function ensureTool(tool: string, pkg: string): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    if (process.getuid?.() !== 0) throw new Error(`${tool} is missing: install the Debian package ${pkg}`);
    log(`installing ${pkg} (apt-get)`);
    await run('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { maxBuffer: 64 * 1024 * 1024 });
  }
}

async function adminPost(base: string, p: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`POST ${p}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function terminalId(prefix2: string): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let id = prefix2;
  for (const b of randomBytes(8 - prefix2.length)) id += alphabet[b % alphabet.length];
  return id;
}

interface WrkResult {
  approved: number;
  declined: number;
  other: number;
  requests: number;
  durationUs: number;
  errors: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
}

async function wrk(port: number, o: Options, seconds: number, env: Record<string, string>): Promise<WrkResult> {
  const script = path.resolve('loadtest/closed/payments.lua');
  const { stdout } = await run('wrk', [`-t${o.threads}`, `-c${o.connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/v1/payments`], {
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
    timeout: (seconds + 30) * 1000,
  });
  for (const l of stdout.split('\n')) if (l.startsWith('LTDECLINE ') || l.startsWith('LTOTHER ')) log(`  sample answer: ${l}`);
  const line = stdout.split('\n').find((l) => l.startsWith('LTJSON '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  return JSON.parse(line.slice(7)) as WrkResult;
}

interface Row {
  phase: string;
  perSecond: number;
  unit: string;
  p50Ms?: number;
  p99Ms?: number;
  errors: number;
  check: string;
  cpu?: CpuReport;
}

/** Warm-up, then the measured window with a CPU split of the machine over it. */
async function measuredWrk(port: number, o: Options, env: Record<string, string>, serverPids: number[]): Promise<{ warm: WrkResult; main: WrkResult; cpu: CpuReport }> {
  // Warm-up and measured run send different ids (each wrk run counts its sequence from 0).
  const warm = await wrk(port, o, o.warmupS, { ...env, LT_RUN_ID: `${env.LT_RUN_ID}w` });
  const meter = new CpuMeter(serverPids);
  const main = await wrk(port, o, o.durationS, { ...env, LT_RUN_ID: `${env.LT_RUN_ID}m` });
  return { warm, main, cpu: meter.report() };
}

async function startCore(o: Options, url: string, extra: Record<string, string> = {}): Promise<{ server: ServerProcess; httpPort: number; isoPort: number }> {
  const httpPort = await freePort();
  const isoPort = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    HTTP_PORT: String(httpPort),
    HTTP_HOST: '127.0.0.1',
    ISO_PORT: String(isoPort),
    SEED: '0',
    LOG_LEVEL: 'warn',
    ROLE: 'all',
    JOBS_SCHEDULERS: '0',
    ADMIN_TOKEN: adminToken,
    ...extra,
  };
  if (o.workers) env.WEB_CONCURRENCY = o.workers;
  const server = await ServerProcess.start({ name: 'core', entry: 'src/main.ts', env, httpPort });
  return { server, httpPort, isoPort };
}

async function pidsOf(server: ServerProcess): Promise<number[]> {
  // The core may run worker processes (WEB_CONCURRENCY): its pid and its children's.
  try {
    const { stdout } = await run('pgrep', ['-P', String(server.pid)]);
    return [server.pid, ...stdout.split('\n').filter(Boolean).map(Number)];
  } catch {
    return [server.pid];
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const runId = `c${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  await ensureTool('wrk', 'wrk');
  await ensureTool('pgbench', 'postgresql-contrib');
  const lock = await acquireRunLock(baseUrl, runId, 600_000, log);
  const masterKey = loadConfig({}).masterKeyHex;
  const rows: Row[] = [];
  process.on('SIGINT', () => {
    killStartedServers();
    process.exit(130);
  });
  try {
    // The core's database: cards for payments and, for taps, enough that no card repeats in a run.
    const coreDb = dbUrl('citizencard_bench_closed');
    const needTaps = o.phases.has('taps');
    const seededCards = needTaps ? tapCardsMax : Math.max(o.cards, 1000);
    if (o.phases.has('core') || needTaps || o.phases.has('iso')) {
      log(`preparing ${coreDb} (${seededCards} cards)`);
      await prepareDatabase(coreDb);
      await seed(coreDb, masterKey, seededCards, 1n, log);
    }
    const cards = benchCardNos(o.cards);
    const cardsFile = path.resolve(`var/loadtest/closed-cards-${runId}.txt`);
    await mkdir(path.dirname(cardsFile), { recursive: true });
    await writeFile(cardsFile, `${cards.join('\n')}\n`);

    if (o.phases.has('ceiling')) {
      const httpPort = await freePort();
      const server = await ServerProcess.start({ name: 'noop', entry: 'loadtest/closed/noop-server.ts', env: { HTTP_PORT: String(httpPort) }, httpPort });
      try {
        log('ceiling: fastify route that does nothing');
        const r = await measuredWrk(httpPort, o, { LT_CARDS_FILE: cardsFile, LT_API_KEY: 'noop', LT_RUN_ID: `${runId}n` }, [server.pid]);
        rows.push({ phase: 'HTTP ceiling (no-op fastify route)', perSecond: r.main.requests / (r.main.durationUs / 1e6), unit: 'answers/s', p50Ms: r.main.p50Us / 1000, p99Ms: r.main.p99Us / 1000, errors: r.main.errors + r.main.other, check: '', cpu: r.cpu });
      } finally {
        await server.stop();
      }
    }

    if (o.phases.has('core')) {
      await flushPrefix(redisUrl, prefix);
      await vacuumAccounts(coreDb);
      const core = await startCore(o, coreDb);
      try {
        const base = `http://127.0.0.1:${core.httpPort}`;
        const pos = terminalId('LC');
        const reg = await adminPost(base, '/v1/admin/terminals', { terminalId: pos, kind: 'pos', merchantId: 'M0000000000001' });
        await warmCards(coreDb, redisUrl, prefix, cards, new Date().toISOString().slice(0, 10));
        log(`core: POST /v1/payments, ${o.cards} cards, terminal ${pos}`);
        const pids = await pidsOf(core.server);
        const r = await measuredWrk(core.httpPort, o, { LT_CARDS_FILE: cardsFile, LT_API_KEY: String(reg.apiKey), LT_RUN_ID: runId }, pids);
        const committed = await countPayments(coreDb, pos);
        const approvedAll = r.warm.approved + r.main.approved;
        const check = durabilityCheck(approvedAll, committed, 2 * o.connections);
        const balanced = await trialBalanced(coreDb);
        rows.push({
          phase: 'core POST /v1/payments',
          perSecond: r.main.approved / (r.main.durationUs / 1e6),
          unit: 'approvals/s',
          p50Ms: r.main.p50Us / 1000,
          p99Ms: r.main.p99Us / 1000,
          errors: r.main.errors + r.main.other + r.main.declined,
          check: `${check}; trial balance ${balanced ? 'balanced' : 'NOT balanced'}`,
          cpu: r.cpu,
        });
      } finally {
        await core.server.stop();
      }
    }

    if (o.phases.has('naive')) {
      log(`naive: pgbench, ${pgbenchClients} clients`);
      rows.push(await naive(o));
    }

    if (needTaps) {
      await flushPrefix(redisUrl, prefix);
      await vacuumAccounts(coreDb);
      const core = await startCore(o, coreDb);
      try {
        const base = `http://127.0.0.1:${core.httpPort}`;
        const tapCards = benchCardNos(tapCardsMax);
        const validators: { terminalId: string; apiKey: string }[] = [];
        for (let i = 0; i < 8; i++) {
          const id = terminalId('LB');
          const reg = await adminPost(base, '/v1/admin/terminals', { terminalId: id, kind: 'bus', operatorId: 'ZZBUS', routeId: 'B2' });
          validators.push({ terminalId: id, apiKey: String(reg.apiKey) });
        }
        await warmCards(coreDb, redisUrl, prefix, tapCards, new Date().toISOString().slice(0, 10));
        log('taps: POST /v1/taps/batch, 1,000 taps a request');
        const pids = await pidsOf(core.server);
        const meter = new CpuMeter(pids);
        const r = await runBatchTaps({ port: core.httpPort, validators, cards: tapCards, durationS: o.durationS, runId });
        const cpu = meter.report();
        const row = driverRow('core POST /v1/taps/batch (1,000 taps a request)', 'accepted taps/s', r, cpu);
        const durable = await committedTaps(coreDb, validators.map((v) => v.terminalId));
        row.check = `${r.check}; ${durable === r.approvedTotal ? `accepted = durable tap rows (${durable})` : `MISMATCH: durable tap rows ${durable}`}; trial balance ${(await trialBalanced(coreDb)) ? 'balanced' : 'NOT balanced'}`;
        rows.push(row);
      } finally {
        await core.server.stop();
      }
    }

    if (o.phases.has('iso')) {
      await flushPrefix(redisUrl, prefix);
      const core = await startCore(o, coreDb);
      try {
        const base = `http://127.0.0.1:${core.httpPort}`;
        const pos = terminalId('LI');
        const reg = await adminPost(base, '/v1/admin/terminals', { terminalId: pos, kind: 'pos', merchantId: 'M0000000000001' });
        await warmCards(coreDb, redisUrl, prefix, cards, new Date().toISOString().slice(0, 10));
        log('iso: 0200 purchases, 50 pipelined connections');
        const pids = await pidsOf(core.server);
        const meter = new CpuMeter(pids);
        const r = await runIsoPurchases({ port: core.isoPort, terminalId: pos, mak: String(reg.mak), tmk: String(reg.tmk ?? ''), cards, durationS: o.durationS });
        const cpu = meter.report();
        const committed = await countPayments(coreDb, pos);
        const row = driverRow('core ISO 8583 0200 (50 pipelined connections)', 'approvals/s', r, cpu);
        row.check = durabilityCheck(r.approvedTotal, committed, 0);
        rows.push(row);
      } finally {
        await core.server.stop();
      }
    }
  } finally {
    killStartedServers();
    await lock.release();
  }
  const report = await render(o, rows);
  const out = path.resolve(`var/loadtest/closed-${runId}.md`);
  await writeFile(out, report);
  process.stdout.write(report);
  log(`written ${out}`);
}

/**
 * Every approval must be a committed transfer. wrk stops with up to one request per connection in
 * flight in each of its two runs: those may commit unseen, so committed may exceed approved by that.
 */
function durabilityCheck(approved: number, committed: number, inFlightMax: number): string {
  if (committed < approved) return `LOST: approved ${approved}, committed only ${committed}`;
  if (committed - approved > inFlightMax) return `MISMATCH: approved ${approved}, committed ${committed} (more than the ${inFlightMax} in flight at stop)`;
  return `approved ${approved} ≤ committed ${committed} ≤ approved + in flight at stop`;
}

function driverRow(phase: string, unit: string, r: DriverResult, cpu: CpuReport): Row {
  return { phase, perSecond: r.perSecond, unit, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, check: r.check, cpu };
}

async function countPayments(url: string, terminal: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM transfers WHERE op_kind = 'payment' AND terminal_id = $1 AND leg = 0`, [terminal]);
    return Number(r.rows[0]!.n);
  } finally {
    await c.end();
  }
}

async function trialBalanced(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ total: string }>(`SELECT coalesce(sum(balance), 0)::text AS total FROM accounts`);
    return r.rows[0]!.total === '0';
  } finally {
    await c.end();
  }
}

async function naive(o: Options): Promise<Row> {
  const url = dbUrl('citizencard_bench_naive');
  const admin = new pg.Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  try {
    await admin.query('DROP DATABASE IF EXISTS citizencard_bench_naive WITH (FORCE)');
    await admin.query('CREATE DATABASE citizencard_bench_naive');
  } finally {
    await admin.end();
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE TABLE naive_accounts (account_id bigint PRIMARY KEY, balance bigint NOT NULL)`);
    await c.query(`CREATE TABLE naive_transfers (transfer_id bigserial PRIMARY KEY, op_id text NOT NULL UNIQUE, debit_account_id bigint NOT NULL,
                    credit_account_id bigint NOT NULL, amount bigint NOT NULL CHECK (amount > 0), created_at timestamptz NOT NULL DEFAULT now())`);
    await c.query(`INSERT INTO naive_accounts SELECT g, CASE WHEN g = 0 THEN 0 ELSE 1000000000 END FROM generate_series(0, $1::int) g`, [o.cards]);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  const args = ['-n', '-c', String(pgbenchClients), '-j', '2', '-D', `cards=${o.cards}`, '-f', path.resolve('loadtest/closed/naive.sql'), '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres'];
  await run('pgbench', [...args, '-T', String(o.warmupS), u.pathname.slice(1)], { maxBuffer: 16 * 1024 * 1024 });
  const meter = new CpuMeter([]);
  const { stdout } = await run('pgbench', [...args, '-T', String(o.durationS), '-r', u.pathname.slice(1)], { maxBuffer: 16 * 1024 * 1024 });
  const cpu = meter.report();
  const tps = Number(/tps = ([0-9.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? 'NaN');
  const latency = Number(/latency average = ([0-9.]+) ms/.exec(stdout)?.[1] ?? 'NaN');
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? '0');
  return { phase: `naive ledger (pgbench, ${pgbenchClients} clients)`, perSecond: tps, unit: 'payments/s', p50Ms: latency, errors: failed, check: 'latency column: pgbench average', cpu };
}

function describeCpu(c: CpuReport): string {
  return `${c.server} / ${Math.round((c.postgres + c.pgOther) * 10) / 10} / ${c.redis} / ${Math.round((c.other + c.runner) * 10) / 10} (machine ${c.machine})`;
}

async function render(o: Options, rows: Row[]): Promise<string> {
  const m = await machineInfo(dbUrl('postgres'), redisUrl);
  const by = (p: string) => rows.find((r) => r.phase.startsWith(p))?.perSecond;
  const core = by('core POST /v1/payments');
  const ceiling = by('HTTP ceiling');
  const naiveTps = by('naive');
  const lines = [
    `# Closed-loop benchmark ${new Date().toISOString()}`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.postgres}, Redis ${m.redis}; commit ${m.gitCommit}; load before: ${m.uptime}`,
    `Command: npm run loadtest:closed -- --duration ${o.durationS} --connections ${o.connections} --threads ${o.threads} --cards ${o.cards}${o.workers ? ` --workers ${o.workers}` : ''}`,
    `wrk -t${o.threads} -c${o.connections}, ${o.warmupS} s warm-up then ${o.durationS} s measured; pgbench -c ${pgbenchClients} -j 2.`,
    '',
    '| phase | rate | p50 ms | p99 ms | errors | CPU % (server / postgres / redis / other) | check |',
    '|---|---:|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.phase} | ${r.perSecond.toFixed(0)} ${r.unit} | ${r.p50Ms?.toFixed(2) ?? ''} | ${r.p99Ms?.toFixed(2) ?? ''} | ${r.errors} | ${r.cpu ? describeCpu(r.cpu) : ''} | ${r.check} |`,
    ),
    '',
  ];
  if (core !== undefined && naiveTps !== undefined) lines.push(`core / naive = ${(core / naiveTps).toFixed(2)}×`);
  if (core !== undefined && ceiling !== undefined) lines.push(`core / HTTP ceiling = ${(core / ceiling).toFixed(3)}×`);
  lines.push('');
  return lines.join('\n');
}

await main();
