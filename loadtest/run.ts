// Load runner of the citizen card (DESIGN §3 targets): open-loop HTTP load at fixed arrival rates
// against the core (src/main.ts, started here on its own database and Redis prefix) and against a
// naive one-transaction-per-payment baseline, a ledger batch-size sweep, 100k vs 1M cards.
// `npm run loadtest -- --help` for the options; loadtest/README.md for the scenario interface.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, usage, type RunnerArgs } from './lib/args.js';
import { flushPrefix, prepareDatabase, seed, vacuumAccounts, warmCards } from './lib/bench-db.js';
import { HttpPool } from './lib/http-pool.js';
import { machineInfo, uptime, waitQuiet } from './lib/machine.js';
import { summarizeProfile } from './lib/profile.js';
import { Probes } from './lib/probes.js';
import { acquireRunLock } from './lib/run-lock.js';
import { renderMarkdown, type PhaseResult, type RunResults } from './lib/report.js';
import type { AdminApi, CardSet, Scenario, Target, Workload } from './lib/scenario.js';
import { runStep } from './lib/open-loop.js';
import { defaultLadder, findSustainedRate, measure, SequenceSource, type SearchOptions } from './lib/search.js';
import { freePort, killStartedServers, ServerProcess } from './lib/server-process.js';
import { paymentsScenario, retailMerchantId } from './scenarios/payments.js';
import { writerBench, writerVariants } from './lib/writer-bench.js';
import { isoScenario } from './scenarios/iso.js';
import { tapsScenario } from './scenarios/taps.js';
import { benchCardNos } from '../scripts/seed-cards.js';
import { batchSizes, committedTransfers, trialBalance } from './lib/ledger-checks.js';
import { businessDateOf } from '../src/domain/business-day.js';
import { devAdminToken, loadConfig } from '../src/platform/config.js';

/** Scenarios by name: a colleague's new scenario module joins here (see loadtest/README.md). */
export const scenarios: Record<string, Scenario<never>> = {
  payments: paymentsScenario as Scenario<never>,
  iso: isoScenario as Scenario<never>,
  taps: tapsScenario as Scenario<never>,
};

export const requestTimeoutMs = 10_000;

const adminToken = process.env.ADMIN_TOKEN ?? devAdminToken;
const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/citizencard';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

interface Db {
  name: string;
  url: string;
  prefix: string;
  cards: number;
}

function databaseUrl(name: string): string {
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function log(line: string): void {
  process.stderr.write(`[loadtest ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function cardSet(cardNos: string[]): CardSet {
  return { cardNos, pick: () => cardNos[Math.floor(Math.random() * cardNos.length)]! };
}

function adminApi(baseUrl: string): AdminApi {
  return {
    baseUrl,
    async post(p, body) {
      const res = await fetch(`${baseUrl}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
    },
  };
}

/** Counts approved answers of a phase, warm-up included, for the durability check. */
function counting(inner: Workload): Workload & { approved: number } {
  const w = {
    approved: 0,
    async fire(seq: number) {
      const outcome = await inner.fire(seq);
      if (outcome.kind === 'approved') w.approved++;
      return outcome;
    },
  };
  return w;
}

class Runner {
  readonly runId = `lt${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  private readonly states = new Map<string, unknown>();
  /** Databases whose Redis prefix holds every card, consistent with PostgreSQL. */
  private readonly warmCaches = new Set<string>();
  readonly results: RunResults;
  private readonly scenario: Scenario<never>;

  constructor(
    private readonly args: RunnerArgs,
    results: Omit<RunResults, 'runId'>,
  ) {
    this.results = { runId: this.runId, ...results };
    const scenario = scenarios[args.scenario];
    if (!scenario) throw new Error(`unknown scenario ${args.scenario}; known: ${Object.keys(scenarios).join(', ')}`);
    this.scenario = scenario;
  }

  searchOptions(label: string, serverPids: number[]): SearchOptions {
    const quick = this.args.quick;
    return {
      label,
      ladder: this.args.ladder,
      stepMs: this.args.stepMs,
      pauseMs: quick ? 700 : 1000,
      drainMs: requestTimeoutMs + 2000,
      p99MaxMs: this.args.p99MaxMs,
      refineSteps: quick ? 1 : 2,
      retryFailures: this.args.retry,
      warmupRate: 200,
      warmupMs: quick ? 1500 : 2500,
      serverPids,
      log,
    };
  }

  async startCore(db: Db, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
    const httpPort = await freePort();
    const isoPort = await freePort();
    return ServerProcess.start({
      name: 'core',
      entry: 'src/main.ts',
      httpPort,
      nodeFlags,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: db.prefix,
        HTTP_PORT: String(httpPort),
        HTTP_HOST: '127.0.0.1',
        ISO_PORT: String(isoPort),
        SEED: '0',
        LOG_LEVEL: 'warn',
        ROLE: 'api',
        REPORTS_DIR: path.join(this.args.outDir, 'reports'),
        ...(this.args.batchWaitMs !== null ? { LEDGER_BATCH_WAIT_MS: this.args.batchWaitMs } : {}),
        ...this.scenario.serverEnv,
        ...env,
      },
    });
  }

  /** The scenario's setup runs once per database against a core server. */
  async stateFor(db: Db, core: ServerProcess | null): Promise<unknown> {
    if (this.states.has(db.name)) return this.states.get(db.name);
    let server = core;
    if (!server) {
      await flushPrefix(redisUrl, db.prefix);
      server = await this.startCore(db, {});
    }
    try {
      const state = await this.scenario.setup(adminApi(`http://127.0.0.1:${server.spec.httpPort}`));
      this.states.set(db.name, state);
      return state;
    } finally {
      if (!core) await server.stop();
    }
  }

  workload(db: Db, state: unknown, target: Target, tag: string): Workload & { approved: number; phaseRunId: string } {
    const phaseRunId = `${this.runId}-${tag}`;
    const inner = this.scenario.workload(state as never, { target, cards: cardSet(benchCardNos(db.cards, this.args.firstSerial)), runId: phaseRunId });
    return Object.assign(counting(inner), { phaseRunId });
  }

  /** One measured phase on a server started for it: core (flushed and warmed cache) or naive. */
  async phase(name: string, db: Db, kind: 'core' | 'naive', opts: { env?: Record<string, string>; nodeFlags?: string[]; fixedRate?: number } = {}): Promise<PhaseResult> {
    if (!this.scenario.targets.includes(kind)) throw new Error(`scenario ${this.scenario.name} cannot run against ${kind}`);
    const env = opts.env ?? {};
    const result: PhaseResult = { name, database: db.name, cards: db.cards, env, uptimeBefore: '' };
    if (this.args.waitQuietS > 0) result.busyBefore = await waitQuiet(this.args.waitQuietS * 1000, 0.25, log);
    let state = this.states.get(db.name);
    if (state === undefined && kind === 'naive') state = await this.stateFor(db, null);
    if (this.args.vacuum) {
      const v = await vacuumAccounts(db.url);
      result.vacuum = v;
      log(`${name}: VACUUM accounts (${v.deadBefore} dead rows; autovacuum ${v.autovacuum}) in ${(v.ms / 1000).toFixed(1)} s`);
    }
    // The cache stays valid from one core phase to the next (the core is the only writer); the naive
    // baseline and the writer bench change PostgreSQL behind it, so after them it is rebuilt.
    const warm = kind === 'core' && !this.args.cold && !this.warmCaches.has(db.name);
    if (kind !== 'core' || this.args.cold || warm) {
      this.warmCaches.delete(db.name);
      await flushPrefix(redisUrl, db.prefix);
    }
    let server: ServerProcess;
    if (kind === 'core') server = await this.startCore(db, env, opts.nodeFlags);
    else {
      const httpPort = await freePort();
      server = await ServerProcess.start({ name: 'naive', entry: 'loadtest/naive-server.ts', httpPort, env: { DATABASE_URL: db.url, HTTP_PORT: String(httpPort) } });
    }
    const probes = await Probes.open(db.url, redisUrl).catch(async (error: unknown) => {
      await server.stop();
      throw error;
    });
    try {
      if (state === undefined) state = await this.stateFor(db, server);
      if (warm) {
        const started = Date.now();
        const installed = await warmCards(db.url, redisUrl, db.prefix, benchCardNos(db.cards, this.args.firstSerial), businessDateOf(new Date()));
        result.warmMs = Date.now() - started;
        this.warmCaches.add(db.name);
        log(`${name}: warmed ${installed} cards in ${(result.warmMs / 1000).toFixed(1)} s`);
      } else if (kind === 'core' && !this.args.cold) {
        result.note = 'card cache kept warm from the previous core phase';
      }
      const http = new HttpPool({ host: '127.0.0.1', port: server.spec.httpPort, connections: this.args.connections, timeoutMs: requestTimeoutMs });
      const target: Target = { kind, host: '127.0.0.1', httpPort: server.spec.httpPort, http };
      if (server.spec.env.ISO_PORT) target.isoPort = Number(server.spec.env.ISO_PORT);
      const workload = this.workload(db, state, target, name.replace(/[^A-Za-z0-9]/g, ''));
      result.uptimeBefore = uptime();
      log(`${name}: ${result.uptimeBefore}`);
      const options = { ...this.searchOptions(name, [server.pid]), probes, database: db.name };
      const seq = new SequenceSource();
      const fixedRate = opts.fixedRate ?? this.args.rate;
      if (fixedRate !== null) {
        await runStep(workload, { ratePerS: options.warmupRate, durationMs: options.warmupMs, drainMs: options.drainMs, seqStart: seq.take(Math.ceil((options.warmupRate * options.warmupMs) / 1000) + 1) });
        result.fixed = [await measure(workload, seq, fixedRate, options)];
      } else {
        result.search = await findSustainedRate(workload, seq, options);
      }
      http.close();
      await workload.close?.();
      const check = this.scenario.ledgerCheck?.(state as never) ?? null;
      const committed = await committedTransfers(db.url, check, workload.phaseRunId);
      await batchSizes(db.url, check, workload.phaseRunId, result.search?.steps ?? result.fixed ?? []);
      if (committed.transfers >= 0) result.durability = { approvedAnswers: workload.approved, committedTransfers: committed.transfers, transactions: committed.transactions };
      if (result.durability && result.durability.approvedAnswers > result.durability.committedTransfers) {
        log(`${name}: WARNING ${result.durability.approvedAnswers} approvals answered but only ${result.durability.committedTransfers} transfers committed`);
      }
    } catch (error) {
      log(`${name} failed; server output:\n${server.output.join('\n')}`);
      throw error;
    } finally {
      await server.stop();
      await probes.close();
    }
    result.trialBalance = await trialBalance(db.url);
    log(`${name}: trial balance ${result.trialBalance.balanced ? 'balanced' : `NOT balanced (${result.trialBalance.total})`}`);
    this.results.phases.push(result);
    return result;
  }

  async prepare(db: Db): Promise<void> {
    await prepareDatabase(db.url);
    const masterKeyHex = loadConfig({ ...process.env, DATABASE_URL: db.url }).masterKeyHex;
    log(`${db.name}: seeding ${db.cards} cards (skips what exists)`);
    const report = await seed(db.url, masterKeyHex, db.cards, this.args.firstSerial, log);
    this.results.seeds.push({ database: db.name, cards: db.cards, ms: report.ms, created: report.cardsCreated });
    log(`${db.name}: ${report.cardsCreated} cards created, ${report.balancesLoaded} balances loaded in ${(report.ms / 1000).toFixed(1)} s`);
  }

  /** The ledger writer alone, as is and with its SQL traffic rewritten (lib/writer-bench.ts). */
  async writer(db: Db): Promise<void> {
    if (this.args.waitQuietS > 0) await waitQuiet(this.args.waitQuietS * 1000, 0.25, log);
    if (this.args.vacuum) await vacuumAccounts(db.url);
    this.warmCaches.delete(db.name); // it writes PostgreSQL behind the cache
    const ladder = [250, 500, 1000, 2000, 4000, 8000, 16_000];
    this.results.writer = await writerBench({
      databaseUrl: db.url,
      cardNos: benchCardNos(db.cards, this.args.firstSerial),
      merchantId: retailMerchantId,
      variants: writerVariants,
      batchRowsMax: 512,
      batchWaitMs: this.args.batchWaitMs === null ? loadConfig({}).ledgerBatchWaitMs : Number(this.args.batchWaitMs),
      ladder,
      stepMs: Math.min(this.args.stepMs, 4000),
      p99MaxMs: this.args.p99MaxMs,
      log,
    });
    const tb = await trialBalance(db.url);
    log(`writer: trial balance ${tb.balanced ? 'balanced' : `NOT balanced (${tb.total})`}`);
  }

  async profile(db: Db): Promise<void> {
    const dir = path.resolve(this.args.outDir, 'profiles', this.runId);
    await mkdir(dir, { recursive: true });
    const rate = this.args.rate ?? this.results.phases.find((p) => p.name === 'core')?.search?.sustained?.ratePerS ?? 1500;
    await this.phase('profile', db, 'core', { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir], fixedRate: rate });
    // One profile per thread (tsx's module loader runs on its own): keep the busiest, the main thread.
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
    const summaries = await Promise.all(files.map(async (f) => ({ f, s: await summarizeProfile(f) })));
    const busiest = summaries.sort((a, b) => b.s.busyMs - a.s.busyMs)[0];
    if (!busiest) throw new Error(`no CPU profile written in ${dir}`);
    this.results.profile = { ...busiest.s, rate };
    log(`profile: ${busiest.f} (main thread busy ${busiest.s.busyMs} of ${busiest.s.totalMs} ms)`);
  }
}

async function external(args: RunnerArgs, runner: Runner): Promise<void> {
  const url = new URL(args.url!);
  const scenario = scenarios[args.scenario]!;
  const state = await scenario.setup(adminApi(url.origin));
  const http = new HttpPool({ host: url.hostname, port: Number(url.port || 80), connections: args.connections, timeoutMs: requestTimeoutMs });
  const target: Target = { kind: 'external', host: url.hostname, httpPort: Number(url.port || 80), http };
  const workload = scenario.workload(state as never, { target, cards: cardSet(benchCardNos(args.cards, args.firstSerial)), runId: `${runner.runId}-ext` });
  const result: PhaseResult = { name: 'external', database: url.origin, cards: args.cards, env: {}, uptimeBefore: uptime() };
  log(result.uptimeBefore);
  const options = runner.searchOptions('external', []);
  const seq = new SequenceSource();
  if (args.rate !== null) result.fixed = [await measure(workload, seq, args.rate, options)];
  else result.search = await findSustainedRate(workload, seq, options);
  http.close();
  runner.results.phases.push(result);
}

async function main(): Promise<void> {
  let args: RunnerArgs | null;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  if (!args) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const main: Db = { name: args.database, url: databaseUrl(args.database), prefix: 'lt:bench:', cards: args.cards };
  const large: Db = { name: args.largeDatabase, url: databaseUrl(args.largeDatabase), prefix: 'lt:benchlarge:', cards: args.largeCards };
  // Against --url the server, its database and its Redis are elsewhere: nothing here is read or
  // locked (the run lock guards this machine's bench databases), so DATABASE_URL plays no part.
  const lock = args.url ? { release: async () => undefined } : await acquireRunLock(baseDatabaseUrl, `pid ${process.pid} ${args.phases.join(',')} ${args.scenario}`, args.lockWaitS * 1000, log);
  releaseLock = () => lock.release();
  if (!args.url) await prepareDatabase(main.url);
  const runner = new Runner(args, {
    command: `npm run loadtest -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: await machineInfo(args.url ? null : main.url, args.url ? null : redisUrl),
    options: { ...args, firstSerial: args.firstSerial.toString(), ladderIsDefault: args.ladder === defaultLadder },
    seeds: [],
    phases: [],
  });
  log(`run ${runner.runId}: phases ${args.phases.join(',')}; ${runner.results.machine.uptime}`);
  const started = Date.now();
  try {
    if (args.url) await external(args, runner);
    else {
      await runner.prepare(main);
      if (args.phases.includes('core')) await runner.phase('core', main, 'core');
      if (args.phases.includes('naive')) await runner.phase('naive', main, 'naive');
      if (args.phases.includes('sweep')) {
        for (const size of args.batchSizes) await runner.phase(`batch ${size}`, main, 'core', { env: { LEDGER_BATCH_ROWS_MAX: String(size) } });
        const largest = String(Math.max(...args.batchSizes));
        for (const wait of args.batchWaits) {
          await runner.phase(`batch ${largest} wait ${wait}`, main, 'core', { env: { LEDGER_BATCH_ROWS_MAX: largest, LEDGER_BATCH_WAIT_MS: String(wait) } });
        }
      }
      if (args.phases.includes('profile')) await runner.profile(main);
      if (args.phases.includes('writer')) await runner.writer(main);
      if (args.phases.includes('cards')) {
        await prepareDatabase(large.url);
        await runner.prepare(large);
        await runner.phase(`core ${large.cards} cards`, large, 'core');
      }
    }
  } finally {
    if (!args.url) {
      // The runner's Redis keys (card cache, idempotency records) are not left behind.
      for (const db of [main, large]) await flushPrefix(redisUrl, db.prefix).catch(() => 0);
    }
    runner.results.finishedAt = new Date().toISOString();
    await mkdir(args.outDir, { recursive: true });
    const base = path.join(args.outDir, `results-${runner.runId}`);
    await writeFile(`${base}.json`, JSON.stringify(runner.results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
    const markdown = renderMarkdown(runner.results);
    await writeFile(`${base}.md`, markdown);
    process.stdout.write(markdown);
    log(`done in ${Math.round((Date.now() - started) / 1000)} s; results in ${base}.md and .json`);
    await lock.release();
  }
}

let releaseLock: () => Promise<void> = async () => undefined;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killStartedServers();
    void releaseLock().finally(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  killStartedServers();
  await releaseLock();
  process.stderr.write(`loadtest: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
