// The stored fuzz corpus: one JSON file per input that ever failed a property (or that an older
// literal regression test pinned), in `test/fuzz/corpus/<property>/<hash>.json`, replayed first on
// every run. Inputs are fast-check values, so the JSON is tagged for what JSON cannot hold: bigint
// (money), Buffer and Uint8Array (wire bytes), Map (ISO fields), Date (taps), undefined, NaN/±0/∞.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's corpus folder; FUZZ_CORPUS_DIR points the runner elsewhere. */
export const corpusRoot = process.env.FUZZ_CORPUS_DIR ?? fileURLToPath(new URL('../corpus', import.meta.url));

/** One stored case: what it broke (or guards), and the property's arguments. */
export interface CorpusCase {
  /** File name without `.json` (the hash of the encoded input). */
  name: string;
  file: string;
  comment: string;
  input: unknown[];
}

/** Longest comment kept in a file: the first line of an error, not a stack. */
export const corpusCommentMax = 300;

const propertyIdPattern = /^[a-z0-9][a-z0-9-]*$/;

export function assertPropertyId(id: string): void {
  if (!propertyIdPattern.test(id)) throw new Error(`fuzz property id ${JSON.stringify(id)} is not kebab-case`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A fast-check value as plain JSON, with tagged objects for the types JSON lacks. */
export function encodeValue(value: unknown): unknown {
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { $number: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (Buffer.isBuffer(value)) return { $buffer: hex(value) };
  if (value instanceof Uint8Array) return { $uint8array: hex(value) };
  if (value instanceof Date) return { $date: value.getTime() };
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [encodeValue(k), encodeValue(v)]) };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new Error(`cannot store a ${value.constructor.name} in the fuzz corpus`);
    const entries = Object.entries(value).map(([k, v]) => [k, encodeValue(v)] as const);
    // Keys that look like tags go through an explicit entry list, so decoding is unambiguous.
    if (entries.some(([k]) => k.startsWith('$'))) return { $object: entries };
    return Object.fromEntries(entries);
  }
  throw new Error(`cannot store a ${typeof value} in the fuzz corpus`);
}

export function decodeValue(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const o = json as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0]?.startsWith('$')) {
    const tag = keys[0];
    const v = o[tag];
    switch (tag) {
      case '$undefined':
        return undefined;
      case '$number':
        return v === '-0' ? -0 : Number(v);
      case '$bigint':
        return BigInt(v as string);
      case '$buffer':
        return Buffer.from(v as string, 'hex');
      case '$uint8array':
        return new Uint8Array(Buffer.from(v as string, 'hex'));
      case '$date':
        return new Date(v as number);
      case '$map':
        return new Map((v as [unknown, unknown][]).map(([k, x]) => [decodeValue(k), decodeValue(x)]));
      case '$object':
        return Object.fromEntries((v as [string, unknown][]).map(([k, x]) => [k, decodeValue(x)]));
      default:
        throw new Error(`unknown tag ${tag} in a fuzz corpus file`);
    }
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decodeValue(v)]));
}

/** The file name of an input: the same input always lands in the same file. */
export function caseName(input: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(encodeValue(input))).digest('hex').slice(0, 16);
}

/** The first line of a message, bounded: what a corpus file says the input broke. */
export function commentOf(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, corpusCommentMax);
}

/**
 * Stores `input` as a case of `propertyId` under `root` and returns its path. An input already
 * stored keeps its file (and its comment): the same failure found twice is one case.
 */
export function writeCorpusCase(root: string, propertyId: string, input: readonly unknown[], comment: string, extra: Record<string, unknown> = {}): string {
  assertPropertyId(propertyId);
  const dir = join(root, propertyId);
  const file = join(dir, `${caseName(input)}.json`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const body = { comment: commentOf(comment), ...extra, input: encodeValue(input) };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

/** The cases of `propertyId` under `root`, in file-name order (deterministic). */
export function readCorpus(root: string, propertyId: string): CorpusCase[] {
  assertPropertyId(propertyId);
  const dir = join(root, propertyId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const body = JSON.parse(readFileSync(file, 'utf8')) as { comment?: unknown; input?: unknown };
      if (typeof body.comment !== 'string' || body.comment === '') throw new Error(`${file}: a corpus case needs a comment saying what it broke`);
      const input = decodeValue(body.input);
      if (!Array.isArray(input)) throw new Error(`${file}: input must be the list of the property's arguments`);
      return { name: f.slice(0, -'.json'.length), file, comment: body.comment, input };
    });
}

/** The property ids that have a folder under `root`. */
export function corpusProperties(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
