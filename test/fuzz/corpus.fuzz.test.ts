// The fuzz harness itself: the corpus encoding, a failing property storing its counterexample where
// the replay finds it, the time budget and the run cap, and the repository's corpus being well formed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseName, commentOf, corpusCommentMax, corpusProperties, corpusRoot, decodeValue, encodeValue, readCorpus, writeCorpusCase } from './support/corpus.js';
import { FuzzFailure, fuzzSeed, fuzzTimeMs, fuzzTimeMsDefault, replayCase, runFuzz } from './support/fuzz.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fuzz-corpus-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('corpus encoding', () => {
  it('keeps what JSON cannot hold: bigint, Buffer, Uint8Array, Map, Date, undefined, NaN and -0', () => {
    const input = [
      -12_345_678_901_234_567_890n,
      Buffer.from('0200\x00\xff', 'latin1'),
      new Uint8Array([0, 1, 254]),
      new Map<number, string | Buffer>([[2, '6200'], [64, Buffer.alloc(8, 1)]]),
      new Date('2026-03-02T20:00:00.000Z'),
      { kind: 'taxi', meterAmountFen: 10n, missing: undefined },
      [Number.NaN, -0, Number.POSITIVE_INFINITY, 1.5],
      { $bigint: 'not a tag', plain: null },
    ];
    const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(input)))) as unknown[];
    expect(back).toEqual(input);
    expect(Buffer.isBuffer(back[1])).toBe(true);
    expect(Buffer.isBuffer(back[2])).toBe(false);
    expect(back[2]).toBeInstanceOf(Uint8Array);
    expect(Object.is((back[6] as number[])[1], -0)).toBe(true);
  });

  it('refuses values it could not give back', () => {
    expect(() => encodeValue(new Set([1]))).toThrow(/Set/);
    expect(() => encodeValue(() => 1)).toThrow(/function/);
  });

  it('names a case by its content, and keeps one line of comment', () => {
    expect(caseName([Buffer.from('ab')])).toBe(caseName([Buffer.from('ab')]));
    expect(caseName([Buffer.from('ab')])).not.toBe(caseName([new Uint8Array(Buffer.from('ab'))]));
    expect(commentOf('\nError: boom\n    at stack')).toBe('Error: boom');
    expect(commentOf('x'.repeat(1000))).toHaveLength(corpusCommentMax);
  });
});

describe('a failing property', () => {
  // Fails from 1000 up: found at once, and shrunk to exactly 1000.
  const predicate = (n: number) => {
    if (n >= 1000) throw new RangeError(`${n} is a thousand or more`);
  };
  const property = fc.property(fc.integer({ min: 0, max: 100_000 }), predicate);

  it('stores its counterexample in the corpus, says where, and the replay finds it and fails on it', () => {
    let failure: unknown;
    try {
      runFuzz(root, 'thousands', property, { numRunsMax: 1_000_000, timeMs: 10_000, seed: 42 });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(FuzzFailure);
    const { file, message } = failure as FuzzFailure;
    expect(readdirSync(join(root, 'thousands'))).toEqual([`${caseName([1000])}.json`]);
    expect(file).toBe(join(root, 'thousands', `${caseName([1000])}.json`));
    expect(message).toContain('Counterexample stored in');
    expect(message).toContain(`${caseName([1000])}.json`);
    expect(message).toContain('commit it');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { comment: string; seed: number; input: unknown };
    expect(stored).toMatchObject({ comment: 'RangeError: 1000 is a thousand or more', seed: 42, input: [1000] });

    const cases = readCorpus(root, 'thousands');
    expect(cases.map((c) => c.input)).toEqual([[1000]]);
    expect(() => replayCase(predicate, cases[0]?.input ?? [])).toThrow('1000 is a thousand or more');
  });

  it('finding the same counterexample again keeps one file and its first comment', () => {
    const file = writeCorpusCase(root, 'thousands', [1000], 'found by hand');
    expect(() => runFuzz(root, 'thousands', property, { numRunsMax: 1_000_000, timeMs: 10_000, seed: 7 })).toThrow(FuzzFailure);
    expect(readdirSync(join(root, 'thousands'))).toHaveLength(1);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { comment: string }).comment).toBe('found by hand');
  });

  it('a property returning false is stored as well', () => {
    const never7 = fc.property(fc.constantFrom(1, 7), (n) => n !== 7);
    expect(() => runFuzz(root, 'never-seven', never7, { numRunsMax: 100, timeMs: 10_000 })).toThrow(FuzzFailure);
    expect(readCorpus(root, 'never-seven')).toMatchObject([{ input: [7], comment: 'Error: Property failed by returning false' }]);
    expect(() => replayCase((n: number) => n !== 7, [7])).toThrow('returned false');
  });
});

describe('replay', () => {
  it('runs stored inputs the generator would not produce, in file-name order', () => {
    writeCorpusCase(root, 'sums', [2n, 3n], 'b');
    writeCorpusCase(root, 'sums', [-1n, 1n], 'a');
    const cases = readCorpus(root, 'sums');
    expect(cases.map((c) => c.name)).toEqual([...cases.map((c) => c.name)].sort());
    expect(cases.map((c) => c.input).sort()).toEqual([[-1n, 1n], [2n, 3n]].sort());
    // A generator of positive amounts never reaches the stored -1n, the replay does.
    const positive = (a: bigint, b: bigint) => a > 0n && b > 0n;
    expect(() => runFuzz(root, 'sums', fc.property(fc.bigInt({ min: 1n, max: 9n }), fc.bigInt({ min: 1n, max: 9n }), positive), { numRunsMax: 200, timeMs: 5_000 })).not.toThrow();
    const failures = cases.filter((c) => {
      try {
        replayCase(positive, c.input);
        return false;
      } catch {
        return true;
      }
    });
    expect(failures.map((c) => c.comment)).toEqual(['a']);
  });

  it('refuses a stored case without a comment, and an unknown tag', () => {
    writeCorpusCase(root, 'bad', [1], ' ');
    expect(() => readCorpus(root, 'bad')).toThrow(/needs a comment/);
    expect(() => decodeValue({ $set: [1] })).toThrow(/unknown tag/);
    expect(() => writeCorpusCase(root, '../out', [1], 'x')).toThrow(/kebab-case/);
  });
});

describe('time budget', () => {
  it('stops a slow property at the time limit, without failing, and keeps the runs done', () => {
    const started = Date.now();
    const slow = fc.property(fc.nat(), () => {
      const until = Date.now() + 2;
      while (Date.now() < until) {
        // busy: about 2 ms a run
      }
    });
    const details = runFuzz(root, 'slow', slow, { numRunsMax: 1_000_000, timeMs: 300 });
    const elapsedMs = Date.now() - started;
    expect(details.failed).toBe(false);
    expect(details.interrupted).toBe(true);
    expect(details.numRuns).toBeGreaterThan(0);
    expect(details.numRuns).toBeLessThan(1_000);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(corpusProperties(root)).toEqual([]);
  });

  it('stops a fast property at its run cap', () => {
    const details = runFuzz(root, 'fast', fc.property(fc.nat(), (n) => n >= 0), { numRunsMax: 250, timeMs: 60_000 });
    expect(details).toMatchObject({ failed: false, interrupted: false, numRuns: 250 });
  });

  it('reads FUZZ_TIME_MS and FUZZ_SEED, refusing anything but a positive integer', () => {
    expect(fuzzTimeMs({})).toBe(fuzzTimeMsDefault);
    expect(fuzzTimeMs({ FUZZ_TIME_MS: '' })).toBe(fuzzTimeMsDefault);
    expect(fuzzTimeMs({ FUZZ_TIME_MS: '500' })).toBe(500);
    for (const bad of ['0', '-5', '1.5', '2s', '99999999999']) expect(() => fuzzTimeMs({ FUZZ_TIME_MS: bad }), bad).toThrow(/FUZZ_TIME_MS/);
    expect(fuzzSeed({})).toBeUndefined();
    expect(fuzzSeed({ FUZZ_SEED: '123' })).toBe(123);
    expect(() => fuzzSeed({ FUZZ_SEED: 'abc' })).toThrow(/FUZZ_SEED/);
  });
});

describe('the repository corpus', () => {
  const fuzzFiles = readdirSync(new URL('.', import.meta.url))
    .filter((f) => f.endsWith('.fuzz.test.ts'))
    .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'));

  it.each(corpusProperties(corpusRoot))('%s: every case reads back, and a property of that id replays it', (id) => {
    const cases = readCorpus(corpusRoot, id);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(c.name).toBe(caseName(c.input));
    // A renamed id would leave its cases replayed by nothing.
    expect(fuzzFiles.some((text) => text.includes(`id: '${id}'`))).toBe(true);
  });
});
