// Time-boxed properties with a stored corpus. Each property first replays, one test per file, every
// input stored for it under test/fuzz/corpus/<id>/, then runs fast-check for FUZZ_TIME_MS (at most
// `numRunsMax` runs): a busy machine does fewer runs, not a longer suite. A failure stores its
// counterexample as a new corpus file and says where, so that it is committed and replayed forever.
import { relative } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { corpusRoot, readCorpus, writeCorpusCase } from './corpus.js';

/** Time budget of one property when FUZZ_TIME_MS is not set. */
export const fuzzTimeMsDefault = 2_000;
/** Above this a budget is a typo, not a soak (the soak is FUZZ_TIME_MS=600000 on one file, see docs/testing.md). */
export const fuzzTimeMsMax = 3_600_000;

function positiveInteger(name: string, text: string | undefined, fallback: number | undefined, max: number): number | undefined {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

/** The time budget of one property, in milliseconds, from FUZZ_TIME_MS. */
export function fuzzTimeMs(env: NodeJS.ProcessEnv = process.env): number {
  return positiveInteger('FUZZ_TIME_MS', env.FUZZ_TIME_MS, fuzzTimeMsDefault, fuzzTimeMsMax) as number;
}

/** A fixed fast-check seed from FUZZ_SEED (to replay a generated stream); random when unset. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return positiveInteger('FUZZ_SEED', env.FUZZ_SEED, undefined, 2 ** 31 - 1);
}

export interface FuzzBudget {
  /** Cap on generated runs, reached first on a fast idle machine. */
  numRunsMax: number;
  timeMs: number;
  seed?: number;
}

/** A property failed; its counterexample is in `file`. */
export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

/**
 * Runs `property` within `budget`. Running out of time is not a failure (the runs done are kept);
 * a counterexample is stored under `root`/`propertyId` and thrown as a FuzzFailure naming the file.
 * Shrinking shares the time limit, so a failing run is bounded too (its counterexample less shrunk).
 */
export function runFuzz<Ts>(root: string, propertyId: string, property: fc.IProperty<Ts>, budget: FuzzBudget): fc.RunDetails<Ts> {
  const details = fc.check(property, {
    numRuns: budget.numRunsMax,
    interruptAfterTimeLimit: budget.timeMs,
    markInterruptAsFailure: false,
    ...(budget.seed === undefined ? {} : { seed: budget.seed }),
  });
  if (!details.failed) return details;
  const report = fc.defaultReportMessage(details) ?? `property ${propertyId} failed`;
  if (details.counterexample === null) throw new Error(report);
  const error = details.errorInstance;
  const broke = error instanceof Error ? `${error.name}: ${error.message}` : `property returned ${String(error ?? false)}`;
  const file = writeCorpusCase(root, propertyId, details.counterexample as unknown[], broke, { seed: details.seed, path: details.counterexamplePath });
  throw new FuzzFailure(`${report}\n\nCounterexample stored in ${relative(process.cwd(), file)}: commit it, and every run replays it first.`, file);
}

/** Calls the predicate on stored arguments, failing as fast-check would (a throw, or `false`). */
export function replayCase<Ts extends unknown[]>(predicate: (...args: Ts) => boolean | void, input: unknown[]): void {
  if (predicate(...(input as Ts)) === false) throw new Error('the property returned false');
}

export interface FuzzSpec<Ts extends [unknown, ...unknown[]]> {
  /** The corpus folder: kebab-case, stable (renaming it orphans the stored cases). */
  id: string;
  title: string;
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };
  predicate: (...args: Ts) => boolean | void;
  numRunsMax: number;
  /** Runs before the generated inputs (e.g. to reset outcome counters). */
  before?: () => void;
  /** Checks after the generated inputs, given how many ran. */
  after?: (details: fc.RunDetails<Ts>) => void;
}

/** Registers the corpus replays and the time-boxed run of one property, in a describe block of its title. */
export function fuzzProperty<Ts extends [unknown, ...unknown[]]>(spec: FuzzSpec<Ts>): void {
  const timeMs = fuzzTimeMs();
  const seed = fuzzSeed();
  const cases = readCorpus(corpusRoot, spec.id);
  describe(spec.title, () => {
    for (const c of cases) {
      it(`stored ${spec.id}/${c.name}: ${c.comment}`, () => replayCase(spec.predicate, c.input));
    }
    it(
      `holds on inputs generated for ${timeMs} ms (at most ${spec.numRunsMax} runs)`,
      () => {
        spec.before?.();
        const property = fc.property<Ts>(...spec.arbitraries, spec.predicate);
        const details = runFuzz(corpusRoot, spec.id, property, { numRunsMax: spec.numRunsMax, timeMs, ...(seed === undefined ? {} : { seed }) });
        spec.after?.(details);
      },
      // Replays and shrinking share the budget; the margin is for a machine that is very busy.
      timeMs + 30_000,
    );
  });
}
