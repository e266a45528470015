// The ISO 8583 profile of DESIGN §6 as data: one row per field, read by the codec, the masker and the
// tests alike. Changing the wire format means changing this table, nothing else.

/** `n` digits, `an` letters/digits/space (space only as padding in practice), `ans` printable ASCII, `b` raw bytes. */
export type Charset = 'n' | 'an' | 'ans' | 'b';

/** How a short value is completed on encode; decode returns the wire value, padding included. */
export type Padding = 'none' | 'left-zero' | 'right-space';

/** `pan` is masked in logs; `secret` (PIN block, MAC, key material) is never shown at all. */
export type Sensitivity = 'none' | 'pan' | 'secret';

interface FieldBase {
  readonly no: number;
  readonly name: string;
  readonly charset: Charset;
  readonly sensitivity: Sensitivity;
}

export interface FixedField extends FieldBase {
  readonly kind: 'fixed';
  readonly length: number;
  readonly padding: Padding;
}

export interface VarField extends FieldBase {
  readonly kind: 'llvar' | 'lllvar';
  readonly lengthMax: number;
}

export type FieldSpec = FixedField | VarField;

/** A whole message (MTI to MAC) never exceeds this; framing refuses larger declared lengths. */
export const messageBytesMax = 4096;
export const mtiBytes = 4;
export const bitmapBytes = 8;
export const macBytes = 8;
/** Digits of the length prefix of each variable kind. */
export const prefixDigits = { llvar: 2, lllvar: 3 } as const;

const n = (no: number, name: string, length: number): FixedField => ({
  no,
  name,
  kind: 'fixed',
  charset: 'n',
  length,
  padding: 'left-zero',
  sensitivity: 'none',
});

const fixed = (no: number, name: string, charset: 'an' | 'ans', length: number, padding: Padding): FixedField => ({
  no,
  name,
  kind: 'fixed',
  charset,
  length,
  padding,
  sensitivity: 'none',
});

const binary = (no: number, name: string): FixedField => ({
  no,
  name,
  kind: 'fixed',
  charset: 'b',
  length: 8,
  padding: 'none',
  sensitivity: 'secret',
});

const variable = (
  no: number,
  name: string,
  kind: 'llvar' | 'lllvar',
  charset: 'n' | 'ans',
  lengthMax: number,
  sensitivity: Sensitivity = 'none',
): VarField => ({ no, name, kind, charset, lengthMax, sensitivity });

export const panDigitsMax = 19;
export const acquirerDigitsMax = 11;
/** ISO 8583 sizes additional amounts as ans..120: six 20-character balance entries. */
export const balancesCharsMax = 120;
/** Private-use LLLVAR: the prefix's own ceiling. */
export const privateCharsMax = 999;

const fieldList: readonly FieldSpec[] = [
  variable(2, 'pan', 'llvar', 'n', panDigitsMax, 'pan'),
  n(3, 'processingCode', 6),
  n(4, 'amountFen', 12),
  n(7, 'transmissionDateTime', 10),
  n(11, 'stan', 6),
  n(12, 'localTime', 6),
  n(13, 'localDate', 4),
  n(22, 'posEntryMode', 3),
  n(25, 'posConditionCode', 2),
  variable(32, 'acquirerId', 'llvar', 'n', acquirerDigitsMax),
  // RRN, auth code and response code are always sent at full length: no padding is invented for them.
  fixed(37, 'retrievalReference', 'an', 12, 'none'),
  fixed(38, 'authorizationCode', 'an', 6, 'none'),
  fixed(39, 'responseCode', 'an', 2, 'none'),
  fixed(41, 'terminalId', 'ans', 8, 'right-space'),
  fixed(42, 'merchantId', 'ans', 15, 'right-space'),
  // Private additional data: a medical claim's items (docs/iso8583.md); health data, so never logged.
  variable(48, 'additionalData', 'lllvar', 'ans', privateCharsMax, 'secret'),
  n(49, 'currency', 3),
  binary(52, 'pinBlock'),
  variable(54, 'balances', 'lllvar', 'ans', balancesCharsMax),
  variable(60, 'batchNumber', 'lllvar', 'ans', privateCharsMax),
  binary(64, 'mac'),
  n(70, 'networkManagementCode', 3),
  n(74, 'creditsCount', 10),
  n(76, 'debitsCount', 10),
  n(86, 'creditsAmountFen', 16),
  n(88, 'debitsAmountFen', 16),
  n(90, 'originalDataElements', 42),
  binary(128, 'mac'),
];

/** Field number → spec. A bit set for a number missing here is a format error. */
export const fieldSpecs: ReadonlyMap<number, FieldSpec> = new Map(fieldList.map((f) => [f.no, f]));

/** Upper bound of a field's value length in characters (or bytes for `b`). */
export function fieldLengthMax(spec: FieldSpec): number {
  return spec.kind === 'fixed' ? spec.length : spec.lengthMax;
}

/** Field 64 carries the MAC without a secondary bitmap, field 128 with one. */
export const macFieldPrimary = 64;
export const macFieldSecondary = 128;

/** Network management codes (field 70). */
export const NetworkCode = { signOn: '001', signOff: '002', keyChange: '101', echo: '301' } as const;

/** Processing codes (field 3). */
export const ProcessingCode = { purchase: '000000', refund: '200000', topUp: '210000', balance: '310000' } as const;

/** Request MTIs of the profile; a response is the request MTI + 10. */
export const requestMtis = ['0800', '0200', '0220', '0400', '0420', '0500'] as const;

/**
 * The answer's MTI: request + 10 (`0200` → `0210`). Undefined when the MTI is not a request or advice
 * (odd function digit), so a stray response is never answered.
 */
export function responseMtiOf(mti: string): string | undefined {
  if (!/^\d\d[02468]\d$/.test(mti)) return undefined;
  return String(Number(mti) + 10).padStart(4, '0');
}
