// TCP framing (DESIGN §6): each message is preceded by its length as 2 bytes big-endian. The
// Deframer turns arbitrary socket chunks into whole messages with bounded buffering.
import { messageBytesMax } from './spec.js';

export const lengthPrefixBytes = 2;

/** A declared length the server cannot accept; the connection cannot be resynchronised, so it closes. */
export class FramingError extends Error {
  override name = 'FramingError';
  readonly code = 'iso_framing';

  constructor(readonly declaredBytes: number) {
    super(`frame length ${declaredBytes} outside 1..${messageBytesMax}`);
  }
}

function checkLength(length: number): void {
  if (length < 1 || length > messageBytesMax) throw new FramingError(length);
}

export function frame(message: Buffer): Buffer {
  checkLength(message.length);
  const out = Buffer.allocUnsafe(lengthPrefixBytes + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, lengthPrefixBytes);
  return out;
}

/**
 * Feed it socket chunks; it returns the whole messages they complete, in order. What it keeps between
 * calls is at most one partial frame (≤ 2 + messageBytesMax bytes). After a FramingError it stays
 * failed: the stream has lost its boundaries, and messages completed earlier in the same chunk go down
 * with it, since the connection is being closed anyway.
 */
export class Deframer {
  private pending: Buffer = Buffer.alloc(0);
  private failed: FramingError | undefined;

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    let offset = 0;
    while (buf.length - offset >= lengthPrefixBytes) {
      const length = buf.readUInt16BE(offset);
      if (length < 1 || length > messageBytesMax) {
        this.failed = new FramingError(length);
        this.pending = Buffer.alloc(0);
        throw this.failed;
      }
      const end = offset + lengthPrefixBytes + length;
      if (end > buf.length) break;
      // Copy out: a message outlives the chunk, and must not keep a large chunk alive.
      messages.push(Buffer.from(buf.subarray(offset + lengthPrefixBytes, end)));
      offset = end;
    }
    this.pending = Buffer.from(buf.subarray(offset));
    return messages;
  }

  /** Bytes held for an incomplete frame (for metrics and tests). */
  get pendingBytes(): number {
    return this.pending.length;
  }
}
