// Framing of ISO 8583 over TCP: worked cases (the chunking property is test/fuzz/iso8583-framing.fuzz.test.ts).
import { describe, expect, it } from 'vitest';
import { Deframer, frame, FramingError, messageBytesMax } from '../../src/adapters/iso8583/index.js';

const m1 = Buffer.from('0800first');
const m2 = Buffer.from('0810second message');
const m3 = Buffer.alloc(messageBytesMax, 0x41);

function prefix(length: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(length);
  return b;
}

describe('frame', () => {
  it('prefixes the length as 2 bytes big-endian', () => {
    expect(frame(m1).equals(Buffer.concat([Buffer.from([0x00, 0x09]), m1]))).toBe(true);
    expect(frame(m3).subarray(0, 2).equals(Buffer.from([0x10, 0x00]))).toBe(true);
  });

  it('refuses empty and oversize messages', () => {
    expect(() => frame(Buffer.alloc(0))).toThrow(FramingError);
    expect(() => frame(Buffer.alloc(messageBytesMax + 1))).toThrow(FramingError);
  });
});

describe('Deframer', () => {
  it('yields a message split over many chunks only once it is whole', () => {
    const stream = frame(m2);
    const d = new Deframer();
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...d.push(Buffer.from([byte])));
    expect(out).toEqual([m2]);
    expect(d.pendingBytes).toBe(0);
  });

  it('yields several messages from one chunk, keeping the partial tail', () => {
    const stream = Buffer.concat([frame(m1), frame(m2), frame(m3)]);
    const d = new Deframer();
    const cut = stream.length - 100;
    expect(d.push(stream.subarray(0, cut))).toEqual([m1, m2]);
    expect(d.pendingBytes).toBe(cut - frame(m1).length - frame(m2).length);
    expect(d.push(stream.subarray(cut))).toEqual([m3]);
  });

  it('handles a split length prefix', () => {
    const stream = frame(m1);
    const d = new Deframer();
    expect(d.push(stream.subarray(0, 1))).toEqual([]);
    expect(d.push(stream.subarray(1))).toEqual([m1]);
  });

  it('rejects a declared length of 0 or above the maximum, as soon as the prefix is seen, and stays failed', () => {
    for (const length of [0, messageBytesMax + 1, 0xffff]) {
      const d = new Deframer();
      expect(d.push(frame(m1))).toEqual([m1]);
      expect(() => d.push(prefix(length))).toThrow(FramingError);
      expect(() => d.push(frame(m1))).toThrow(FramingError);
      expect(d.pendingBytes).toBe(0);
    }
  });
});
