// Field values at rest: encrypted fields sealed with AES-GCM under MASTER_KEY as {"enc": base64},
// others stored as JSON; and what a department sees of a person (its read rights, masking).
import { fieldCatalogue, isFieldName, type FieldName, type FieldValue } from '../domain/registry/fields.js';
import type { Secrets } from '../platform/secrets.js';

export class FieldCodec {
  constructor(private readonly secrets: Secrets) {}

  encode(field: FieldName, value: FieldValue): unknown {
    if (value === null || !fieldCatalogue[field].encrypted) return value;
    return { enc: this.secrets.encrypt(JSON.stringify(value)).toString('base64') };
  }

  decode(stored: unknown): FieldValue {
    if (stored !== null && typeof stored === 'object' && !Array.isArray(stored) && 'enc' in stored) {
      const sealed = Buffer.from(String((stored as { enc: string }).enc), 'base64');
      return JSON.parse(this.secrets.decrypt(sealed).toString('utf8')) as FieldValue;
    }
    return stored as FieldValue;
  }

  decodeAll(stored: ReadonlyMap<string, unknown>): Map<string, FieldValue> {
    return new Map([...stored].map(([field, value]) => [field, this.decode(value)]));
  }
}

export function sameValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields of `values` a department with `reads` may see; every other field is left out. */
export function visibleFields(values: ReadonlyMap<string, FieldValue>, reads: readonly string[]): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [field, value] of values) if (isFieldName(field) && reads.includes(field)) out[field] = value;
  return out;
}
