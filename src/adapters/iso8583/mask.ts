// What an ISO message looks like in a log line or an error: card numbers masked, PIN blocks, MACs and
// key material never shown. Every log of a message goes through here.
import { maskCardNo } from '../../domain/card-number.js';
import type { FieldValue } from './codec.js';
import { fieldSpecs, mtiBytes } from './spec.js';

export const hidden = '***';

/** Track 2 (field 35) is off-profile but may arrive from a terminal; it carries the PAN too. */
const track2Field = 35;

function maskTrack2(track2: string): string {
  const pan = /^\d*/.exec(track2)?.[0] ?? '';
  return maskCardNo(pan) + (track2.length > pan.length ? `=${hidden}` : '');
}

/** One field as it may be logged. Anything not known to be harmless (unknown field, any binary) is hidden. */
export function maskField(no: number, value: FieldValue): string {
  if (typeof value !== 'string') return hidden;
  if (no === track2Field) return maskTrack2(value);
  const spec = fieldSpecs.get(no);
  if (!spec) return hidden;
  switch (spec.sensitivity) {
    case 'pan':
      return maskCardNo(value);
    case 'secret':
      return hidden;
    case 'none':
      return value;
  }
}

export interface MessageDescription {
  mti: string;
  fields: Record<string, string>;
}

/** `{ mti, fields: { '2': '6200********1234', '52': '***', ... } }`, for the `msg` key of a log line. */
export function describeMessage(msg: { mti: string; fields: ReadonlyMap<number, FieldValue> }): MessageDescription {
  const out: Record<string, string> = {};
  for (const no of [...msg.fields.keys()].sort((a, b) => a - b)) {
    out[String(no)] = maskField(no, msg.fields.get(no) as FieldValue);
  }
  return { mti: msg.mti, fields: out };
}

/** For bytes that did not decode: their size and MTI when readable, never the content. */
export function describeRaw(message: Buffer): { bytes: number; mti?: string } {
  const head = message.subarray(0, mtiBytes);
  return head.length === mtiBytes && /^\d{4}$/.test(head.toString('latin1'))
    ? { bytes: message.length, mti: head.toString('latin1') }
    : { bytes: message.length };
}
