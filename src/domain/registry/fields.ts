// The registry's field catalogue: every field of a person, its tier, the kind of value it holds,
// whether it is encrypted at rest, and the value check applied at the edge. Pure.

export type Tier = 'basic' | 'extended' | 'assistance';

type Kind =
  | { type: 'text' }
  | { type: 'date' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values: readonly string[] };

export interface FieldSpec {
  tier: Tier;
  kind: Kind;
  /** Nullable fields may be cleared (a certificate withdrawn, an enrolment ended). */
  nullable: boolean;
  /** Encrypted at rest (AES-GCM under MASTER_KEY) and never in logs. */
  encrypted: boolean;
  /** The department that usually owns it (documentation; ownership is the departments' `writes`). */
  owner: string;
}

export const textLengthMax = 200;
export const concessionNames = ['senior', 'disabled', 'student', 'low_income'] as const;

const text: Kind = { type: 'text' };
const date: Kind = { type: 'date' };
const bool: Kind = { type: 'boolean' };

export const fieldCatalogue = {
  // basic
  name: { tier: 'basic', kind: text, nullable: false, encrypted: false, owner: 'public_security' },
  sex: { tier: 'basic', kind: { type: 'enum', values: ['male', 'female'] }, nullable: false, encrypted: false, owner: 'public_security' },
  birthDate: { tier: 'basic', kind: date, nullable: false, encrypted: false, owner: 'public_security' },
  nationality: { tier: 'basic', kind: text, nullable: false, encrypted: false, owner: 'public_security' },
  householdPlace: { tier: 'basic', kind: text, nullable: false, encrypted: false, owner: 'public_security' },
  residenceNature: { tier: 'basic', kind: { type: 'enum', values: ['registered', 'temporary', 'floating'] }, nullable: false, encrypted: false, owner: 'public_security' },
  lifeStatus: { tier: 'basic', kind: { type: 'enum', values: ['alive', 'deceased'] }, nullable: false, encrypted: false, owner: 'public_security' },
  // extended
  address: { tier: 'extended', kind: text, nullable: true, encrypted: true, owner: 'public_security' },
  district: { tier: 'extended', kind: text, nullable: true, encrypted: false, owner: 'public_security' },
  community: { tier: 'extended', kind: text, nullable: true, encrypted: false, owner: 'public_security' },
  residenceSince: { tier: 'extended', kind: date, nullable: true, encrypted: false, owner: 'public_security' },
  residenceStatus: { tier: 'extended', kind: { type: 'enum', values: ['resident', 'moved_away'] }, nullable: false, encrypted: false, owner: 'public_security' },
  employment: { tier: 'extended', kind: text, nullable: true, encrypted: false, owner: 'human_resources' },
  // business assistance
  insured: { tier: 'assistance', kind: bool, nullable: false, encrypted: false, owner: 'social_security' },
  insuranceScheme: { tier: 'assistance', kind: text, nullable: true, encrypted: false, owner: 'social_security' },
  lowIncomeSupport: { tier: 'assistance', kind: bool, nullable: false, encrypted: false, owner: 'civil_affairs' },
  disabilityCertificate: { tier: 'assistance', kind: text, nullable: true, encrypted: false, owner: 'civil_affairs' },
  familyPlanning: { tier: 'assistance', kind: text, nullable: true, encrypted: false, owner: 'family_planning' },
  eligibleConcessions: { tier: 'assistance', kind: { type: 'list', values: concessionNames }, nullable: false, encrypted: false, owner: 'civil_affairs' },
  studentEnrolment: { tier: 'assistance', kind: text, nullable: true, encrypted: false, owner: 'education' },
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof fieldCatalogue;
export const fieldNames = Object.keys(fieldCatalogue) as FieldName[];

/** Read rights beyond the fields: the id number in clear, and the statistics tables. */
export const extraReadRights = ['idNumber', 'stats'] as const;
export type ReadRight = FieldName | (typeof extraReadRights)[number];
export const readRights: readonly string[] = [...fieldNames, ...extraReadRights];

export type FieldValue = string | boolean | string[] | null;

export function isFieldName(name: string): name is FieldName {
  return Object.prototype.hasOwnProperty.call(fieldCatalogue, name);
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

export function isDate(value: string): boolean {
  if (!datePattern.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Why a value does not fit its field, or null when it does. */
export function fieldValueError(field: FieldName, value: unknown): string | null {
  const spec: FieldSpec = fieldCatalogue[field];
  if (value === null) return spec.nullable ? null : 'may not be null';
  switch (spec.kind.type) {
    case 'text':
      return typeof value === 'string' && value.length >= 1 && value.length <= textLengthMax ? null : `must be a string of 1 to ${textLengthMax} characters`;
    case 'date':
      return typeof value === 'string' && isDate(value) ? null : 'must be a date YYYY-MM-DD';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'enum':
      return typeof value === 'string' && spec.kind.values.includes(value) ? null : `must be one of ${spec.kind.values.join(', ')}`;
    case 'list': {
      const allowed = spec.kind.values;
      return Array.isArray(value) && value.length <= allowed.length && value.every((v) => typeof v === 'string' && allowed.includes(v)) && new Set(value).size === value.length
        ? null
        : `must be a list of distinct values among ${allowed.join(', ')}`;
    }
  }
}
