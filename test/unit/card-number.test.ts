import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cardNoFromSerial, isValidCardNo, luhnCheckDigit, maskCardNo } from '../../src/domain/card-number.js';
import { applyRate } from '../../src/domain/money.js';
import { businessDateOf } from '../../src/domain/business-day.js';

describe('card numbers', () => {
  it('computes the Luhn check digit of a known number', () => {
    // 7992739871 → check digit 3 (the textbook example).
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(isValidCardNo('4111111111111111')).toBe(true);
    expect(isValidCardNo('4111111111111112')).toBe(false);
    expect(isValidCardNo('411111111111111')).toBe(false);
  });

  it('issues valid 16-digit numbers from serials, and any one-digit change breaks them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_999_999_999n }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (serial, pos, delta) => {
        const cardNo = cardNoFromSerial(serial);
        expect(cardNo).toHaveLength(16);
        expect(isValidCardNo(cardNo)).toBe(true);
        const digit = (Number(cardNo[pos]) + delta) % 10;
        const changed = cardNo.slice(0, pos) + String(digit) + cardNo.slice(pos + 1);
        expect(isValidCardNo(changed)).toBe(false);
      }),
    );
  });

  it('masks all but the first and last four digits', () => {
    expect(maskCardNo('6200912345671234')).toBe('6200********1234');
  });
});

describe('money', () => {
  it('rounds rates half-even to whole fen', () => {
    expect(applyRate(250n, '0.01')).toBe(2n); // 2.5 → 2
    expect(applyRate(350n, '0.01')).toBe(4n); // 3.5 → 4
    expect(applyRate(100000n, '0.0050')).toBe(500n);
  });
});

describe('business day', () => {
  it('puts 03:59 Shanghai on the previous day and 04:00 on the same day', () => {
    expect(businessDateOf(new Date('2026-03-10T03:59:59+08:00'))).toBe('2026-03-09');
    expect(businessDateOf(new Date('2026-03-10T04:00:00+08:00'))).toBe('2026-03-10');
  });
});
