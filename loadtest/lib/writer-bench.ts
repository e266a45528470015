// The ledger writer alone (src/adapters/postgres/ledger-writer.ts, unchanged), driven open-loop
// with payment commands and no HTTP or Redis in front, through an instrumented pool that times each
// statement. Two variants rewrite the writer's traffic in the pool wrapper, to measure a proposed
// fix without editing the core: `prepared` (the batch INSERT as a named prepared statement) and
// `one-statement` (also drops BEGIN / txid_current / COMMIT: the batch statement commits alone).
// The writer is the tree's current one: the statements it sends are timed by their first words.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { createPool } from '../../src/adapters/postgres/db.js';
import { AccountDirectory } from '../../src/adapters/postgres/accounts.js';
import { LedgerWriter } from '../../src/adapters/postgres/ledger-writer.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { runStep } from './open-loop.js';
import type { Workload } from './scenario.js';
import { judge } from './search.js';
import { CpuMeter, type CpuReport } from './cpu.js';
import type { LatencySummary } from './stats.js';

export const writerVariants = ['as-is', 'prepared', 'one-statement'] as const;
export type WriterVariant = (typeof writerVariants)[number];

export interface WriterStep {
  ratePerS: number;
  pass: boolean;
  why: string;
  commitsPerS: number;
  latencyMs: LatencySummary;
  meanBatch: number;
  /** Mean wall time of each kind of statement, ms, with its count. */
  statements: Record<string, { count: number; meanMs: number }>;
  /** The runner (here: the writer itself), the bench database's backends, and everyone else. */
  cpu: CpuReport;
}

export interface WriterResult {
  variant: WriterVariant;
  batchRowsMax: number;
  steps: WriterStep[];
  sustained: WriterStep | null;
}

type Timings = Map<string, { count: number; ms: number }>;

function kindOf(text: string): string {
  const t = text.trim();
  if (/^WITH input AS/i.test(t)) return 'batch INSERT … UPDATE';
  if (/^BEGIN\s*;.*txid_current/is.test(t)) return 'BEGIN; SELECT txid_current()';
  if (/txid_current/i.test(t)) return 'SELECT txid_current()';
  return t.split(/[\s;]+/)[0]!.toUpperCase();
}

const opening = ['BEGIN', 'SELECT txid_current()', 'BEGIN; SELECT txid_current()', 'COMMIT'];

/** What the `one-statement` variant answers instead of running a transaction-control statement. */
function fakeResult(kind: string): unknown {
  const txid = { rows: [{ txid: '0' }], rowCount: 1 };
  if (kind === 'BEGIN; SELECT txid_current()') return [{ rows: [], rowCount: null }, txid]; // a multi-statement query answers one result per statement
  return kind === 'SELECT txid_current()' ? txid : { rows: [], rowCount: null };
}

/** A pool whose clients time every statement and, per variant, rewrite the writer's traffic. */
function instrumented(pool: pg.Pool, variant: WriterVariant, timings: Timings): pg.Pool {
  const wrapClient = (client: pg.PoolClient): pg.PoolClient =>
    new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
        return async (text: string, values?: unknown[]) => {
          const kind = kindOf(text);
          if (variant === 'one-statement' && opening.includes(kind)) return fakeResult(kind);
          const query = variant !== 'as-is' && kind === 'batch INSERT … UPDATE' ? { name: 'lt-ledger-batch', text, values } : { text, values };
          const t0 = performance.now();
          try {
            return await target.query(query as pg.QueryConfig);
          } finally {
            const t = timings.get(kind) ?? { count: 0, ms: 0 };
            t.count++;
            t.ms += performance.now() - t0;
            timings.set(kind, t);
          }
        };
      },
    });
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'connect') return async () => wrapClient(await target.connect());
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export interface WriterBenchOptions {
  databaseUrl: string;
  cardNos: string[];
  merchantId: string;
  variants: readonly WriterVariant[];
  batchRowsMax: number;
  batchWaitMs: number;
  ladder: number[];
  stepMs: number;
  p99MaxMs: number;
  log: (line: string) => void;
}

/** One writer per variant, each on its own instrumented pool. */
interface Rig {
  variant: WriterVariant;
  writer: LedgerWriter;
  timings: Timings;
  workload: Workload;
  result: WriterResult;
  done: boolean;
}

/**
 * The variants are interleaved rate by rate (as-is, prepared, one-statement at 250/s, then at
 * 500/s, …), so that a neighbour's burst on the shared machine does not land on one variant only.
 * A variant drops out after its first failing rate.
 */
export async function writerBench(o: WriterBenchOptions): Promise<WriterResult[]> {
  const base = createPool(o.databaseUrl, 12);
  const accounts = new AccountDirectory(base);
  const runId = `wb${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const businessDate = businessDateOf(new Date());
  const backends = async () => (await base.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid);
  const rigs: Rig[] = o.variants.map((variant, v) => {
    const timings: Timings = new Map();
    const writer = new LedgerWriter(instrumented(base, variant, timings), accounts, { batchRowsMax: o.batchRowsMax, batchWaitMs: o.batchWaitMs, queueMax: 1_000_000 });
    const workload: Workload = {
      async fire(seq) {
        const cardNo = o.cardNos[Math.floor(Math.random() * o.cardNos.length)]!;
        try {
          await writer.submit({
            opKind: 'payment',
            opId: `${runId}-${v}-${seq}`,
            requestHash: 'writer-bench',
            cardNo,
            terminalId: null,
            businessDate,
            legs: [{ debit: { kind: 'purse', ownerId: cardNo }, credit: { kind: 'payable', ownerId: o.merchantId }, amountFen: 1n }],
            detail: { writerBench: true },
          });
          return { kind: 'approved' };
        } catch (error) {
          return { kind: 'error', reason: (error as Error).message };
        }
      },
    };
    return { variant, writer, timings, workload, result: { variant, batchRowsMax: o.batchRowsMax, steps: [], sustained: null }, done: false };
  });
  let seq = 0;
  try {
    // Warm-up: connections, account ids, plans.
    for (const rig of rigs) {
      await runStep(rig.workload, { ratePerS: 200, durationMs: 1500, drainMs: 10_000, seqStart: seq });
      seq += 1000;
    }
    for (const rate of o.ladder) {
      for (const rig of rigs.filter((r) => !r.done)) {
        rig.timings.clear();
        const meter = new CpuMeter([], await backends());
        const batchesBefore = rig.writer.stats.batches;
        const commandsBefore = rig.writer.stats.commands;
        const step = await runStep(rig.workload, { ratePerS: rate, durationMs: o.stepMs, drainMs: 10_000, seqStart: seq });
        seq += step.sent + 1;
        const cpu = meter.report(await backends());
        const batches = rig.writer.stats.batches - batchesBefore;
        const verdict = judge(step, o.p99MaxMs);
        const statements: WriterStep['statements'] = {};
        for (const [kind, t] of rig.timings) statements[kind] = { count: t.count, meanMs: Math.round((t.ms / t.count) * 100) / 100 };
        const record: WriterStep = {
          ratePerS: rate,
          ...verdict,
          commitsPerS: step.approvalsPerS,
          latencyMs: step.latencyMs,
          meanBatch: batches > 0 ? Math.round(((rig.writer.stats.commands - commandsBefore) / batches) * 10) / 10 : 0,
          statements,
          cpu,
        };
        rig.result.steps.push(record);
        o.log(
          `writer ${rig.variant} rows≤${o.batchRowsMax} ${rate}/s: ${record.pass ? 'PASS' : 'FAIL'} p50 ${step.latencyMs.p50} p99 ${step.latencyMs.p99} ms, ` +
            `mean batch ${record.meanBatch}, ${Object.entries(statements).map(([k, v]) => `${k} ${v.meanMs} ms`).join(', ')}; ` +
            `cpu% writer ${cpu.runner} pg ${cpu.postgres}+${cpu.pgOther} other ${cpu.other}`,
        );
        if (record.pass) rig.result.sustained = record;
        else rig.done = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    for (const rig of rigs) await rig.writer.close();
    await base.end();
  }
  return rigs.map((r) => r.result);
}
