import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeMessageWithMac,
  fieldBytes,
  fieldText,
  IsoFormatError,
  macFieldFor,
  macInput,
  macOf,
  responseMtiOf,
  type FieldValue,
  type IsoMessage,
} from '../../src/adapters/iso8583/index.js';

const pan = '6200912345671234';
const mac8 = Buffer.from('0102030405060708', 'hex');
const pinBlock = Buffer.from('a1b2c3d4e5f60718', 'hex');

function msg(mti: string, entries: [number, FieldValue][]): IsoMessage {
  return { mti, fields: new Map(entries) };
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

const requestEcho: [number, FieldValue][] = [
  [2, pan],
  [3, '000000'],
  [4, '000000001250'],
  [7, '1125180102'],
  [11, '000123'],
  [12, '180102'],
  [13, '1125'],
  [32, '12345678901'],
  [37, '000000000123'],
  [41, 'POS00001'],
  [42, 'MERCHANT0000001'],
  [49, '156'],
];

function financial(mti: string, processingCode: string, extra: [number, FieldValue][]): IsoMessage {
  const m = msg(mti, [...requestEcho, [22, '071'], [25, '00'], ...extra]);
  m.fields.set(3, processingCode);
  return m;
}

const approval: [number, FieldValue][] = [
  [38, 'A1B2C3'],
  [39, '00'],
  [54, '1002156C000000012345'],
];
const originalData = '0200' + '000123' + '1125180102' + '00000012345' + '00000000000';

// One message of every MTI and variant of DESIGN §6.
const samples: [string, IsoMessage][] = [
  ...(['001', '002', '101', '301'] as const).flatMap((code): [string, IsoMessage][] => [
    [`0800 F70=${code}`, msg('0800', [[7, '1125180102'], [11, '000001'], [41, 'POS00001'], [70, code]])],
    [`0810 F70=${code}`, msg('0810', [[7, '1125180102'], [11, '000001'], [39, '00'], [41, 'POS00001'], [70, code]])],
  ]),
  ...(
    [
      ['purchase', '000000'],
      ['refund', '200000'],
      ['top-up', '210000'],
      ['balance', '310000'],
    ] as const
  ).flatMap(([label, code]): [string, IsoMessage][] => [
    [`0200 ${label}`, financial('0200', code, [[52, pinBlock], [64, mac8]])],
    [`0210 ${label}`, financial('0210', code, [...approval, [64, mac8]])],
  ]),
  ['0220 advice', financial('0220', '000000', [[60, '000007'], [64, mac8]])],
  ['0230 advice answer', financial('0230', '000000', [[39, '00'], [64, mac8]])],
  ['0400 reversal', financial('0400', '000000', [[90, originalData], [128, mac8]])],
  ['0410 reversal answer', financial('0410', '000000', [[39, '00'], [90, originalData], [128, mac8]])],
  ['0420 reversal advice', financial('0420', '000000', [[64, mac8]])],
  ['0430 reversal advice answer', financial('0430', '000000', [[39, '25'], [64, mac8]])],
  [
    '0500 batch totals',
    msg('0500', [
      [7, '1125235959'],
      [11, '000999'],
      [41, 'POS00001'],
      [42, 'MERCHANT0000001'],
      [60, '000042'],
      [74, '0000000003'],
      [76, '0000000120'],
      [86, '0000000000015000'],
      [88, '0000000000480000'],
      [128, mac8],
    ]),
  ],
  [
    '0510 batch totals answer',
    msg('0510', [
      [7, '1125235959'],
      [11, '000999'],
      [39, '95'],
      [41, 'POS00001'],
      [42, 'MERCHANT0000001'],
      [60, '000042'],
      [128, mac8],
    ]),
  ],
];

describe('ISO 8583 codec: round trips', () => {
  it.each(samples)('%s decodes back to itself, and re-encodes to the same bytes', (_label, message) => {
    const wire = encodeMessage(message);
    const decoded = decodeMessage(wire);
    expect(decoded).toEqual(message);
    expect(encodeMessage(decoded).equals(wire)).toBe(true);
    // The secondary bitmap (bit 1) is there exactly when a field above 64 is.
    const hasSecondary = [...message.fields.keys()].some((no) => no > 64);
    expect(((wire[4] ?? 0) & 0x80) !== 0).toBe(hasSecondary);
  });

  it('covers every MTI of the profile', () => {
    const mtis = new Set(samples.map(([, m]) => m.mti));
    expect([...mtis].sort()).toEqual(['0200', '0210', '0220', '0230', '0400', '0410', '0420', '0430', '0500', '0510', '0800', '0810']);
  });
});

describe('ISO 8583 codec: exact bytes', () => {
  it('primary bitmap only: bits 11 and 41', () => {
    const wire = encodeMessage(msg('0800', [[41, 'TERM0001'], [11, '000001']]));
    expect(wire.equals(Buffer.concat([ascii('0800'), hex('0020000000800000'), ascii('000001TERM0001')]))).toBe(true);
  });

  it('echo test with secondary bitmap: bits 1, 7, 11 and 70 (the classic 8220.../0400...)', () => {
    const wire = encodeMessage(msg('0800', [[7, '1125180102'], [11, '000001'], [70, '301']]));
    const expected = Buffer.concat([ascii('0800'), hex('8220000000000000 0400000000000000'), ascii('1125180102000001301')]);
    expect(wire.equals(expected)).toBe(true);
    expect(decodeMessage(expected)).toEqual(msg('0800', [[7, '1125180102'], [11, '000001'], [70, '301']]));
  });

  it('LLVAR prefix, numeric left-zero padding, ans right-space padding, binary bytes, bit 64', () => {
    const wire = encodeMessage(msg('0200', [[2, pan], [4, '1250'], [42, 'M1'], [64, mac8]]));
    // bits 2 (0x40 in byte 0), 4 (0x10 in byte 0), 42 (0x40 in byte 5), 64 (0x01 in byte 7)
    const expected = Buffer.concat([
      ascii('0200'),
      hex('5000000000400001'),
      ascii('16' + pan),
      ascii('000000001250'),
      ascii('M1' + ' '.repeat(13)),
      mac8,
    ]);
    expect(wire.equals(expected)).toBe(true);
    const decoded = decodeMessage(wire);
    expect(fieldText(decoded, 42)).toBe('M1             ');
    expect(fieldBytes(decoded, 64)?.equals(mac8)).toBe(true);
    expect(fieldText(decoded, 64)).toBeUndefined();
  });

  it('LLLVAR prefix is three digits', () => {
    const wire = encodeMessage(msg('0210', [[54, '1002156C000000012345']]));
    expect(wire.subarray(12).toString('latin1')).toBe('0201002156C000000012345');
  });
});

function formatError(fn: () => unknown): IsoFormatError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IsoFormatError);
    return error as IsoFormatError;
  }
  throw new Error('expected an IsoFormatError');
}

describe('ISO 8583 codec: strict decoding', () => {
  const good = encodeMessage(msg('0200', [[2, pan], [3, '000000'], [11, '000123'], [64, mac8]]));
  const header = (bitmap: string) => Buffer.concat([ascii('0200'), hex(bitmap)]);

  const cases: [string, Buffer, { reason: string; fieldNo?: number; mtiReadable: boolean }][] = [
    ['empty', Buffer.alloc(0), { reason: 'mti', mtiReadable: false }],
    ['short MTI', ascii('020'), { reason: 'mti', mtiReadable: false }],
    ['non-digit MTI', Buffer.concat([ascii('02X0'), good.subarray(4)]), { reason: 'mti', mtiReadable: false }],
    ['truncated primary bitmap', good.subarray(0, 9), { reason: 'bitmap', mtiReadable: true }],
    ['truncated secondary bitmap', header('C000000000000000').subarray(0, 15), { reason: 'bitmap', mtiReadable: true }],
    ['empty secondary bitmap', Buffer.concat([header('8000000000000000'), Buffer.alloc(8)]), { reason: 'bitmap', mtiReadable: true }],
    ['field 64 beside a secondary bitmap', Buffer.concat([header('8000000000000001'), hex('0400000000000000')]), { reason: 'mac', fieldNo: 64, mtiReadable: true }],
    ['unknown field 5', Buffer.concat([header('0800000000000000'), ascii('000000000001')]), { reason: 'unknown-field', fieldNo: 5, mtiReadable: true }],
    ['unknown field 65', Buffer.concat([header('8000000000000000'), hex('8000000000000000')]), { reason: 'unknown-field', fieldNo: 65, mtiReadable: true }],
    ['field beyond the buffer', good.subarray(0, good.length - 3), { reason: 'truncated', fieldNo: 64, mtiReadable: true }],
    ['LLVAR prefix non-digit', Buffer.concat([header('4000000000000000'), ascii('1A' + pan)]), { reason: 'length-prefix', fieldNo: 2, mtiReadable: true }],
    ['LLVAR prefix above max', Buffer.concat([header('4000000000000000'), ascii('20' + pan + '0000')]), { reason: 'length', fieldNo: 2, mtiReadable: true }],
    ['LLLVAR prefix above max', Buffer.concat([header('0000000000000400'), ascii('121' + '0'.repeat(121))]), { reason: 'length', fieldNo: 54, mtiReadable: true }],
    ['length prefix cut', Buffer.concat([header('4000000000000000'), ascii('1')]), { reason: 'truncated', fieldNo: 2, mtiReadable: true }],
    ['non-digit in n field', Buffer.concat([header('2000000000000000'), ascii('00000A')]), { reason: 'charset', fieldNo: 3, mtiReadable: true }],
    ['non-digit in PAN', Buffer.concat([header('4000000000000000'), ascii('04620X')]), { reason: 'charset', fieldNo: 2, mtiReadable: true }],
    ['control byte in ans field', Buffer.concat([header('0000000000800000'), ascii('POS0000'), hex('00')]), { reason: 'charset', fieldNo: 41, mtiReadable: true }],
    ['trailing bytes', Buffer.concat([good, ascii('x')]), { reason: 'trailing', mtiReadable: true }],
    ['above messageBytesMax', Buffer.concat([good, Buffer.alloc(4096)]), { reason: 'message-size', mtiReadable: true }],
  ];

  it.each(cases)('%s', (_label, bytes, expected) => {
    const error = formatError(() => decodeMessage(bytes));
    expect(error.reason).toBe(expected.reason);
    expect(error.fieldNo).toBe(expected.fieldNo);
    expect(error.mtiReadable).toBe(expected.mtiReadable);
    if (expected.mtiReadable) expect(error.mti).toBe('0200');
  });

  it('carries the STAN once read, and never the PAN', () => {
    const bad = Buffer.concat([good.subarray(0, good.length - 8), ascii('short')]);
    const error = formatError(() => decodeMessage(bad));
    expect(error.stan).toBe('000123');
    expect(error.message).not.toContain(pan);
    expect(JSON.stringify(error)).not.toContain(pan);
  });
});

describe('ISO 8583 codec: strict encoding', () => {
  const cases: [string, IsoMessage, { reason: string; fieldNo?: number }][] = [
    ['bad MTI', msg('200', []), { reason: 'mti' }],
    ['PAN too long', msg('0200', [[2, '62009123456712345678']]), { reason: 'length', fieldNo: 2 }],
    ['PAN with a letter', msg('0200', [[2, '6200X']]), { reason: 'charset', fieldNo: 2 }],
    ['amount too long', msg('0200', [[4, '1234567890123']]), { reason: 'length', fieldNo: 4 }],
    ['amount negative', msg('0200', [[4, '-1']]), { reason: 'charset', fieldNo: 4 }],
    ['response code short (no padding for an)', msg('0210', [[39, '0']]), { reason: 'length', fieldNo: 39 }],
    ['merchant id too long', msg('0200', [[42, 'M'.repeat(16)]]), { reason: 'length', fieldNo: 42 }],
    ['non-ASCII in ans', msg('0200', [[41, 'POS0000é']]), { reason: 'charset', fieldNo: 41 }],
    ['string for a binary field', msg('0200', [[52, '0102030405060708']]), { reason: 'type', fieldNo: 52 }],
    ['short binary field', msg('0200', [[64, Buffer.alloc(7)]]), { reason: 'length', fieldNo: 64 }],
    ['Buffer for a text field', msg('0200', [[11, Buffer.from('000001')]]), { reason: 'type', fieldNo: 11 }],
    ['field outside the profile', msg('0200', [[35, '6200912345671234=2512']]), { reason: 'unknown-field', fieldNo: 35 }],
    ['field 64 with a secondary bitmap', msg('0400', [[64, mac8], [90, originalData]]), { reason: 'mac', fieldNo: 64 }],
  ];

  it.each(cases)('%s', (_label, message, expected) => {
    const error = formatError(() => encodeMessage(message));
    expect(error.reason).toBe(expected.reason);
    expect(error.fieldNo).toBe(expected.fieldNo);
    expect(error.message).not.toContain(pan);
  });
});

describe('ISO 8583 codec: MAC placement', () => {
  it('uses field 64 without, and 128 with, a secondary bitmap', () => {
    expect(macFieldFor([2, 3, 4, 64])).toBe(64);
    expect(macFieldFor([2, 90])).toBe(128);
    expect(macFieldFor([2, 128])).toBe(64);
  });

  it('macInput is everything but the last 8 bytes, and encodeMessageWithMac fills them', () => {
    const seen: Buffer[] = [];
    const wire = encodeMessageWithMac(financial('0400', '000000', [[90, originalData]]), (input) => {
      seen.push(Buffer.from(input));
      return mac8;
    });
    expect(macOf(wire).equals(mac8)).toBe(true);
    expect(macInput(wire).equals(seen[0] as Buffer)).toBe(true);
    const decoded = decodeMessage(wire);
    expect(fieldBytes(decoded, 128)?.equals(mac8)).toBe(true);
    expect(decoded.fields.has(64)).toBe(false);
  });

  it('macInput refuses a message without its MAC field', () => {
    const wire = encodeMessage(msg('0800', [[11, '000001']]));
    expect(formatError(() => macInput(wire)).reason).toBe('mac');
  });
});

describe('response MTI', () => {
  it('is request + 10, and undefined for responses', () => {
    expect(responseMtiOf('0200')).toBe('0210');
    expect(responseMtiOf('0800')).toBe('0810');
    expect(responseMtiOf('0420')).toBe('0430');
    expect(responseMtiOf('0210')).toBeUndefined();
    expect(responseMtiOf('02X0')).toBeUndefined();
  });
});
