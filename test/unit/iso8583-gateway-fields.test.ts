// Field conventions of the ISO gateway (docs/iso8583.md): F54 entries, F60 session keys, F90,
// F48 medical items; pure. Their fuzz properties are test/fuzz/iso8583-fields.fuzz.test.ts.
import { describe, expect, it } from 'vitest';
import {
  balanceEntry,
  formatOriginalData,
  formatSessionKeys,
  parseBalances,
  parseOriginalData,
  parseSessionKeys,
  rrnOf,
  transmissionDateTime,
} from '../../src/adapters/iso8583/fields.js';
import { formatItems, parseItems } from '../../src/adapters/iso8583/handlers-medical.js';

describe('field 54', () => {
  it('formats the DESIGN example and negative balances as D', () => {
    expect(balanceEntry('10', 12_345n)).toBe('1002156C000000012345');
    expect(balanceEntry('20', -200n)).toBe('2002156D000000000200');
    expect(balanceEntry('30', 5n, '90')).toBe('3090156C000000000005');
    expect(() => balanceEntry('10', 10n ** 12n)).toThrow(RangeError);
  });

  it('refuses a malformed field 54 (its round trip is test/fuzz/iso8583-fields.fuzz.test.ts)', () => {
    expect(() => parseBalances('1002156C00000001234')).toThrow(RangeError);
    expect(() => parseBalances('1002156X000000012345')).toThrow(RangeError);
  });
});

describe('field 60 session keys', () => {
  it('round-trips and refuses anything else', () => {
    const k = { makUnderTmk: 'A'.repeat(32), makKcv: '0A1B2C', tpkUnderTmk: '0123456789ABCDEF0123456789ABCDEF', tpkKcv: 'FFFFFF' };
    expect(formatSessionKeys(k)).toBe(`MAK:${'A'.repeat(32)}:0A1B2C;TPK:0123456789ABCDEF0123456789ABCDEF:FFFFFF`);
    expect(parseSessionKeys(formatSessionKeys(k))).toEqual(k);
    expect(parseSessionKeys('000001')).toBeNull();
    expect(parseSessionKeys(formatSessionKeys(k).toLowerCase())).toBeNull();
  });
});

describe('field 90 and friends', () => {
  it('original data elements: 4 + 6 + 10 + 11 + 11 digits', () => {
    const text = formatOriginalData({ mti: '0200', stan: '000123', transmitted: '1125180102', acquirer: '12345678' });
    expect(text).toBe('0200' + '000123' + '1125180102' + '00012345678' + '00000000000');
    expect(text).toHaveLength(42);
    expect(parseOriginalData(text)).toEqual({ mti: '0200', stan: '000123', transmitted: '1125180102', acquirer: '00012345678', forwarding: '00000000000' });
    expect(parseOriginalData(text.slice(1))).toBeNull();
    expect(parseOriginalData(text.replace('0200', '02A0'))).toBeNull();
  });

  it('F7 is MMDDhhmmss in UTC; an RRN is 12 digits', () => {
    expect(transmissionDateTime(new Date('2025-01-02T03:04:05Z'))).toBe('0102030405');
    expect(rrnOf('42')).toBe('000000000042');
    expect(rrnOf('1234567890123')).toBe('234567890123');
  });
});

describe('field 48 medical items', () => {
  it('parses the documented form and round-trips', () => {
    expect(parseItems('CT01,95005,E;ROOM1,6000,N')).toEqual([
      { code: 'CT01', amountFen: 95_005n, eligible: true },
      { code: 'ROOM1', amountFen: 6_000n, eligible: false },
    ]);
    const items = [{ code: 'A-1', amountFen: 1n, eligible: true }];
    expect(parseItems(formatItems(items))).toEqual(items);
  });

  it('refuses malformed lists', () => {
    for (const bad of ['', 'CT01,0,E', 'CT01,-5,E', 'CT01,5,X', 'CT01,5', 'CT01,5,E;', ',5,E', 'CT01,1.5,E', `${'C'.repeat(65)},5,E`]) {
      expect(parseItems(bad), bad).toBeNull();
    }
  });
});
