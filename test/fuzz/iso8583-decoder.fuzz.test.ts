// Fuzzing the decoder: random bytes, random bytes behind a plausible header, valid messages, and
// valid messages mutated (bit flips, byte changes, truncation, insertion, length-prefix changes).
// Whatever comes in, decode throws nothing but IsoFormatError, and what it returns is in profile.
// Each property replays its stored corpus first (the strict-decoding and framing regressions among
// it), then runs for FUZZ_TIME_MS at most its former fixed number of runs.
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import {
  decodeMessage,
  Deframer,
  encodeMessage,
  fieldLengthMax,
  fieldSpecs,
  frame,
  FramingError,
  IsoFormatError,
  prefixDigits,
  type FieldSpec,
  type FieldValue,
  type IsoMessage,
} from '../../src/adapters/iso8583/index.js';
import { fuzzProperty } from './support/fuzz.js';

const specs = [...fieldSpecs.values()];
const alphabets = {
  n: '0123456789',
  an: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ',
  ans: Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join(''),
};

// Strings from a length and a seed: much cheaper than a per-character arbitrary for 999-char fields.
function text(alphabet: string, length: number, seed: number): string {
  let x = seed | 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
}

function valueArb(spec: FieldSpec): fc.Arbitrary<FieldValue> {
  if (spec.charset === 'b') return fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b));
  const alphabet = alphabets[spec.charset];
  const length = spec.kind === 'fixed' ? fc.constant(spec.length) : fc.oneof(fc.integer({ min: 0, max: spec.lengthMax }), fc.constant(spec.lengthMax));
  return fc.tuple(length, fc.integer()).map(([n, seed]) => text(alphabet, n, seed));
}

const mtiArb = fc.oneof(
  fc.constantFrom('0800', '0810', '0200', '0210', '0220', '0230', '0400', '0410', '0420', '0430', '0500', '0510'),
  fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
);

const messageArb: fc.Arbitrary<IsoMessage> = fc
  .tuple(mtiArb, fc.tuple(...specs.map((s) => fc.option(valueArb(s), { freq: 2 }))))
  .map(([mti, values]) => {
    const fields = new Map<number, FieldValue>();
    specs.forEach((spec, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) fields.set(spec.no, value);
    });
    // The profile puts the MAC in 128 once there is a secondary bitmap.
    if ([...fields.keys()].some((no) => no > 64)) fields.delete(64);
    return { mti, fields };
  });

/** Offsets of the length prefixes in an encoding of `msg`, with their digit counts. */
function prefixOffsets(msg: IsoMessage): [number, number][] {
  const numbers = [...msg.fields.keys()].sort((a, b) => a - b);
  let offset = 4 + 8 + (numbers.some((no) => no > 64) ? 8 : 0);
  const out: [number, number][] = [];
  for (const no of numbers) {
    const spec = fieldSpecs.get(no) as FieldSpec;
    const value = msg.fields.get(no) as FieldValue;
    if (spec.kind === 'fixed') {
      offset += spec.length;
    } else {
      const digits = prefixDigits[spec.kind];
      out.push([offset, digits]);
      offset += digits + value.length;
    }
  }
  return out;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'prefix'; which: number; value: number; asText: boolean };

const position = fc.nat({ max: 2000 });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('prefix' as const), which: fc.nat(), value: fc.nat({ max: 999 }), asText: fc.boolean() }),
);

function mutate(wire: Buffer, msg: IsoMessage, m: Mutation): Buffer {
  const at = wire.length === 0 ? 0 : m.kind === 'prefix' ? 0 : m.at % wire.length;
  const out = Buffer.from(wire);
  switch (m.kind) {
    case 'flip':
      out[at] = (out[at] ?? 0) ^ (1 << m.bit);
      return out;
    case 'set':
      out[at] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    case 'delete':
      return Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)]);
    case 'prefix': {
      const prefixes = prefixOffsets(msg);
      const chosen = prefixes[m.which % Math.max(1, prefixes.length)];
      if (!chosen || chosen[0] + chosen[1] > out.length) return out;
      const [offset, digits] = chosen;
      // Either another in-range-looking number, or arbitrary bytes in the prefix.
      const replacement = m.asText ? String(m.value % 10 ** digits).padStart(digits, '0') : Buffer.from([m.value & 0xff, 0x3a, 0x2f]).toString('latin1');
      out.write(replacement.slice(0, digits), offset, 'latin1');
      return out;
    }
  }
}

let outcomes = { ok: 0, error: 0 };

/** Decodes `bytes`; only IsoFormatError may escape, and a success must be in profile and canonical. */
function check(bytes: Buffer): void {
  let msg: IsoMessage;
  try {
    msg = decodeMessage(bytes);
  } catch (error) {
    if (!(error instanceof IsoFormatError)) throw error;
    outcomes.error++;
    return;
  }
  outcomes.ok++;
  if (!/^\d{4}$/.test(msg.mti)) throw new Error(`bad MTI decoded`);
  for (const [no, value] of msg.fields) {
    const spec = fieldSpecs.get(no);
    if (!spec) throw new Error(`field ${no} outside the profile decoded`);
    const max = fieldLengthMax(spec);
    if (value.length > max) throw new Error(`field ${no} of ${value.length} above max ${max}`);
    if (spec.kind === 'fixed' && value.length !== spec.length) throw new Error(`fixed field ${no} of ${value.length}`);
    if ((spec.charset === 'b') !== Buffer.isBuffer(value)) throw new Error(`field ${no} of the wrong type`);
  }
  // Whatever decodes is canonical: encoding it gives back exactly the same bytes.
  if (!encodeMessage(msg).equals(bytes)) throw new Error('decode/encode is not the identity');
}

describe('ISO 8583 decoder fuzz', () => {
  const resetOutcomes = () => {
    outcomes = { ok: 0, error: 0 };
  };

  fuzzProperty({
    id: 'iso8583-decode-random-bytes',
    title: 'random bytes',
    arbitraries: [fc.uint8Array({ maxLength: 80 })],
    predicate: (b) => check(Buffer.from(b)),
    numRunsMax: 30_000,
    before: resetOutcomes,
    after: () => expect(outcomes.error).toBeGreaterThan(0),
  });

  fuzzProperty({
    id: 'iso8583-decode-mti-bitmap-bytes',
    title: 'random bytes behind a valid MTI and a random bitmap',
    arbitraries: [mtiArb, fc.uint8Array({ minLength: 8, maxLength: 16 }), fc.uint8Array({ maxLength: 200 })],
    predicate: (mti, bitmap, rest) => check(Buffer.concat([Buffer.from(mti), bitmap, rest])),
    numRunsMax: 20_000,
    before: resetOutcomes,
    after: () => expect(outcomes.error).toBeGreaterThan(0),
  });

  fuzzProperty({
    id: 'iso8583-round-trip',
    title: 'valid messages round-trip',
    arbitraries: [messageArb],
    predicate: (msg) => {
      const wire = encodeMessage(msg);
      check(wire);
      expect(decodeMessage(wire)).toEqual(msg);
    },
    numRunsMax: 10_000,
    before: resetOutcomes,
    // Every generated message decoded, none refused.
    after: (details) => expect(outcomes).toEqual({ ok: details.numRuns, error: 0 }),
  });

  fuzzProperty({
    id: 'iso8583-decode-mutated',
    title: 'mutated valid messages',
    arbitraries: [messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })],
    predicate: (msg, mutations) => {
      let wire = encodeMessage(msg);
      // Prefix changes first: their offsets are those of the intact encoding.
      const ordered = [...mutations].sort((a, b) => Number(b.kind === 'prefix') - Number(a.kind === 'prefix'));
      for (const m of ordered) wire = mutate(wire, msg, m);
      check(wire);
    },
    numRunsMax: 50_000,
    before: resetOutcomes,
    after: () => {
      // Both outcomes occur, or the mutations are not exercising the decoder.
      expect(outcomes.ok).toBeGreaterThan(0);
      expect(outcomes.error).toBeGreaterThan(outcomes.ok);
    },
  });

  fuzzProperty({
    id: 'iso8583-framed-stream-lengths',
    title: 'framed streams with damaged frame lengths',
    arbitraries: [fc.array(messageArb, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 64 })],
    predicate: (messages, which, length, chunkBytes) => {
      const frames = messages.map((m) => frame(encodeMessage(m)));
      const i = which % frames.length;
      frames[i]?.writeUInt16BE(length, 0);
      const stream = Buffer.concat(frames);
      const d = new Deframer();
      try {
        for (let offset = 0; offset < stream.length; offset += chunkBytes) {
          for (const message of d.push(stream.subarray(offset, offset + chunkBytes))) check(message);
        }
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
      }
    },
    numRunsMax: 5_000,
  });
});
