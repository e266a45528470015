// ISO 8583 codec for the DESIGN §6 profile, driven by the table in spec.ts: MTI, binary bitmaps,
// fields in order. Anything off-profile, on either side, is an IsoFormatError and nothing else.
import {
  bitmapBytes,
  fieldLengthMax,
  fieldSpecs,
  macBytes,
  macFieldPrimary,
  macFieldSecondary,
  messageBytesMax,
  mtiBytes,
  prefixDigits,
  type Charset,
  type FieldSpec,
} from './spec.js';

export type FieldValue = string | Buffer;

export interface IsoMessage {
  mti: string;
  /** Text fields as their ASCII wire value (padding kept); binary fields (52, 64, 128) as 8-byte Buffers. */
  fields: Map<number, FieldValue>;
}

/** Stable reasons, so callers and tests branch on a code rather than on message text. */
export type IsoFormatReason =
  | 'mti'
  | 'bitmap'
  | 'unknown-field'
  | 'truncated'
  | 'length-prefix'
  | 'length'
  | 'charset'
  | 'type'
  | 'trailing'
  | 'message-size'
  | 'mac';

/**
 * The one error the codec throws. Messages name the field and the rule, never a field's value, so
 * the error can be logged as is. `mti` is set when the MTI was readable: the server then answers
 * MTI + 10 with code 30 (and echoes `stan` when it was read), else it closes the connection.
 */
export class IsoFormatError extends Error {
  override name = 'IsoFormatError';
  readonly code = 'iso_format';
  readonly mtiReadable: boolean;

  constructor(
    readonly reason: IsoFormatReason,
    message: string,
    readonly fieldNo: number | undefined = undefined,
    readonly mti: string | undefined = undefined,
    readonly stan: string | undefined = undefined,
  ) {
    super(fieldNo === undefined ? message : `field ${fieldNo}: ${message}`);
    this.mtiReadable = mti !== undefined;
  }
}

const headerBytes = mtiBytes + bitmapBytes;
const bitsPerBitmap = bitmapBytes * 8;

function isDigitByte(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isCharsetByte(charset: Exclude<Charset, 'b'>, b: number): boolean {
  switch (charset) {
    case 'n':
      return isDigitByte(b);
    case 'an':
      return isDigitByte(b) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x20;
    case 'ans':
      return b >= 0x20 && b <= 0x7e;
  }
}

function bitIsSet(bitmap: Buffer, bitNo: number): boolean {
  const i = bitNo - 1;
  return ((bitmap[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0;
}

function setBit(bitmap: Buffer, bitNo: number): void {
  const i = bitNo - 1;
  bitmap[i >> 3] = (bitmap[i >> 3] ?? 0) | (0x80 >> (i & 7));
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface DecodeState {
  readonly buf: Buffer;
  offset: number;
  readonly mti: string;
  stan: string | undefined;
}

function fail(state: DecodeState, reason: IsoFormatReason, message: string, fieldNo?: number): never {
  throw new IsoFormatError(reason, message, fieldNo, state.mti, state.stan);
}

function readField(state: DecodeState, spec: FieldSpec): FieldValue {
  const { buf } = state;
  let length: number;
  if (spec.kind === 'fixed') {
    length = spec.length;
  } else {
    const digits = prefixDigits[spec.kind];
    if (state.offset + digits > buf.length) fail(state, 'truncated', 'length prefix beyond the end of the message', spec.no);
    length = 0;
    for (let i = 0; i < digits; i++) {
      const b = buf[state.offset + i] ?? 0;
      if (!isDigitByte(b)) fail(state, 'length-prefix', 'length prefix is not ASCII digits', spec.no);
      length = length * 10 + (b - 0x30);
    }
    if (length > spec.lengthMax) fail(state, 'length', `declared length ${length} above the maximum ${spec.lengthMax}`, spec.no);
    state.offset += digits;
  }
  const start = state.offset;
  const end = start + length;
  if (end > buf.length) fail(state, 'truncated', `value of ${length} bytes runs beyond the end of the message`, spec.no);
  state.offset = end;
  // Copy binary values so a decoded message never pins or aliases the network buffer.
  if (spec.charset === 'b') return Buffer.from(buf.subarray(start, end));
  for (let i = start; i < end; i++) {
    if (!isCharsetByte(spec.charset, buf[i] ?? 0)) fail(state, 'charset', `byte outside charset ${spec.charset}`, spec.no);
  }
  return buf.toString('latin1', start, end);
}

/** Decodes one message (without its 2-byte frame length). Throws only IsoFormatError. */
export function decodeMessage(buf: Buffer): IsoMessage {
  if (buf.length < mtiBytes) throw new IsoFormatError('mti', 'message shorter than its MTI');
  for (let i = 0; i < mtiBytes; i++) {
    if (!isDigitByte(buf[i] ?? 0)) throw new IsoFormatError('mti', 'MTI is not 4 ASCII digits');
  }
  const state: DecodeState = { buf, offset: headerBytes, mti: buf.toString('latin1', 0, mtiBytes), stan: undefined };
  if (buf.length > messageBytesMax) fail(state, 'message-size', `message of ${buf.length} bytes above the maximum ${messageBytesMax}`);
  if (buf.length < headerBytes) fail(state, 'bitmap', 'primary bitmap truncated');
  const primary = buf.subarray(mtiBytes, headerBytes);
  const hasSecondary = bitIsSet(primary, 1);
  let secondary: Buffer | undefined;
  if (hasSecondary) {
    if (buf.length < headerBytes + bitmapBytes) fail(state, 'bitmap', 'secondary bitmap truncated');
    secondary = buf.subarray(headerBytes, headerBytes + bitmapBytes);
    // The profile sends a secondary bitmap only when a field 65-128 is present.
    if (secondary.every((b) => b === 0)) fail(state, 'bitmap', 'secondary bitmap announced but empty');
    if (bitIsSet(primary, macFieldPrimary)) fail(state, 'mac', 'with a secondary bitmap the MAC is field 128', macFieldPrimary);
    state.offset += bitmapBytes;
  }

  const fields = new Map<number, FieldValue>();
  const lastField = hasSecondary ? 2 * bitsPerBitmap : bitsPerBitmap;
  for (let no = 2; no <= lastField; no++) {
    const set = no <= bitsPerBitmap ? bitIsSet(primary, no) : bitIsSet(secondary as Buffer, no - bitsPerBitmap);
    if (!set) continue;
    const spec = fieldSpecs.get(no);
    if (!spec) fail(state, 'unknown-field', 'bit set for a field outside the profile', no);
    const value = readField(state, spec);
    if (no === 11 && typeof value === 'string') state.stan = value;
    fields.set(no, value);
  }
  if (state.offset !== buf.length) fail(state, 'trailing', `${buf.length - state.offset} bytes after the last field`);
  return { mti: state.mti, fields };
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encodeField(spec: FieldSpec, value: FieldValue, mti: string): Buffer {
  const bad = (reason: IsoFormatReason, message: string): never => {
    throw new IsoFormatError(reason, message, spec.no, mti);
  };
  if (spec.charset === 'b') {
    if (!Buffer.isBuffer(value)) return bad('type', 'binary field needs a Buffer');
    const length = fieldLengthMax(spec);
    if (value.length !== length) return bad('length', `binary field must be ${length} bytes`);
    return value;
  }
  if (typeof value !== 'string') return bad('type', 'text field needs a string');
  for (let i = 0; i < value.length; i++) {
    if (!isCharsetByte(spec.charset, value.charCodeAt(i))) bad('charset', `character outside charset ${spec.charset}`);
  }
  if (spec.kind === 'fixed') {
    if (value.length > spec.length) bad('length', `value longer than ${spec.length}`);
    let padded = value;
    if (value.length < spec.length) {
      if (spec.padding === 'none') bad('length', `value must be exactly ${spec.length} characters`);
      padded = spec.padding === 'left-zero' ? value.padStart(spec.length, '0') : value.padEnd(spec.length, ' ');
    }
    return Buffer.from(padded, 'latin1');
  }
  if (value.length > spec.lengthMax) bad('length', `value longer than ${spec.lengthMax}`);
  const prefix = String(value.length).padStart(prefixDigits[spec.kind], '0');
  return Buffer.from(prefix + value, 'latin1');
}

/** Encodes a message (without the frame length). Off-profile input throws IsoFormatError. */
export function encodeMessage(msg: { mti: string; fields: ReadonlyMap<number, FieldValue> }): Buffer {
  if (!/^\d{4}$/.test(msg.mti)) throw new IsoFormatError('mti', 'MTI must be 4 ASCII digits');
  const numbers = [...msg.fields.keys()].sort((a, b) => a - b);
  const hasSecondary = numbers.some((no) => no > bitsPerBitmap);
  const bitmaps = Buffer.alloc(hasSecondary ? 2 * bitmapBytes : bitmapBytes);
  if (hasSecondary) {
    setBit(bitmaps, 1);
    if (msg.fields.has(macFieldPrimary)) {
      throw new IsoFormatError('mac', 'with a secondary bitmap the MAC is field 128', macFieldPrimary, msg.mti);
    }
  }
  const parts: Buffer[] = [Buffer.from(msg.mti, 'latin1'), bitmaps];
  for (const no of numbers) {
    const spec = fieldSpecs.get(no);
    if (!spec) throw new IsoFormatError('unknown-field', 'field outside the profile', no, msg.mti);
    setBit(bitmaps, no);
    parts.push(encodeField(spec, msg.fields.get(no) as FieldValue, msg.mti));
  }
  const out = Buffer.concat(parts);
  if (out.length > messageBytesMax) {
    throw new IsoFormatError('message-size', `message of ${out.length} bytes above the maximum ${messageBytesMax}`, undefined, msg.mti);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MAC placement

/** The MAC field for a message carrying these fields: 128 once any field 65-127 needs the secondary bitmap. */
export function macFieldFor(fieldNos: Iterable<number>): 64 | 128 {
  for (const no of fieldNos) if (no > bitsPerBitmap && no !== macFieldSecondary) return macFieldSecondary;
  return macFieldPrimary;
}

/**
 * The MAC input (DESIGN §6): every byte from the MTI up to, not including, the last 8 bytes, which
 * are the MAC field (64 or 128 is always the last field present). Call it on a message that decoded.
 */
export function macInput(message: Buffer): Buffer {
  if (message.length < headerBytes) throw new IsoFormatError('bitmap', 'primary bitmap truncated');
  const primary = message.subarray(mtiBytes, headerBytes);
  const present = bitIsSet(primary, 1)
    ? message.length >= headerBytes + bitmapBytes &&
      bitIsSet(message.subarray(headerBytes, headerBytes + bitmapBytes), macFieldSecondary - bitsPerBitmap)
    : bitIsSet(primary, macFieldPrimary);
  if (!present || message.length < headerBytes + macBytes) {
    throw new IsoFormatError('mac', 'message carries no MAC field', undefined);
  }
  return message.subarray(0, message.length - macBytes);
}

/** The MAC bytes of an encoded message carrying one (see macInput). */
export function macOf(message: Buffer): Buffer {
  const input = macInput(message);
  return message.subarray(input.length);
}

/**
 * Encodes a message with its MAC: the right MAC field (64 or 128) is added as a placeholder, the
 * message encoded, the MAC computed over macInput and written in place of the placeholder.
 */
export function encodeMessageWithMac(
  msg: { mti: string; fields: ReadonlyMap<number, FieldValue> },
  computeMac: (input: Buffer) => Buffer,
): Buffer {
  const withMac = new Map(msg.fields);
  withMac.delete(macFieldPrimary);
  withMac.delete(macFieldSecondary);
  withMac.set(macFieldFor(withMac.keys()), Buffer.alloc(macBytes));
  const out = encodeMessage({ mti: msg.mti, fields: withMac });
  const mac = computeMac(out.subarray(0, out.length - macBytes));
  if (mac.length !== macBytes) throw new IsoFormatError('mac', `MAC must be ${macBytes} bytes`, undefined, msg.mti);
  mac.copy(out, out.length - macBytes);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Typed access

/** A text field's value, or undefined when absent (or binary). */
export function fieldText(msg: IsoMessage, no: number): string | undefined {
  const value = msg.fields.get(no);
  return typeof value === 'string' ? value : undefined;
}

/** A binary field's bytes, or undefined when absent (or text). */
export function fieldBytes(msg: IsoMessage, no: number): Buffer | undefined {
  const value = msg.fields.get(no);
  return Buffer.isBuffer(value) ? value : undefined;
}
