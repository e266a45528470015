// Framing of ISO 8583 over TCP under any chunking: the deframer gives back exactly the frames sent
// and never buffers more than one partial frame.
import { expect } from 'vitest';
import fc from 'fast-check';
import { Deframer, frame, messageBytesMax } from '../../src/adapters/iso8583/index.js';
import { fuzzProperty } from './support/fuzz.js';

fuzzProperty({
  id: 'iso8583-deframer-chunking',
  title: 'Deframer: never holds more than one partial frame, whatever the chunking',
  arbitraries: [
    fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 20 }),
    fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 50 }),
  ],
  predicate: (bodies, cuts) => {
    const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
    const d = new Deframer();
    const out: Buffer[] = [];
    let offset = 0;
    for (let i = 0; offset < stream.length; i++) {
      const size = cuts[i % cuts.length] ?? 1;
      out.push(...d.push(stream.subarray(offset, offset + size)));
      offset += size;
      expect(d.pendingBytes).toBeLessThanOrEqual(2 + messageBytesMax);
    }
    expect(out.map((b) => b.toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
    expect(d.pendingBytes).toBe(0);
  },
  numRunsMax: 300,
});
