// The medical split calculator: hand-worked examples under the demo policy (deductible 800.00 yuan,
// fund rate 0.70, annual fund cap 300,000.00 yuan) and input validation; its properties are
// test/fuzz/medical-split.fuzz.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeSplit,
  itemsMax,
  MedicalPolicyError,
  medicalYearOf,
  parseMedicalPolicy,
  reverseYtd,
  type MedicalItem,
  type MedicalPolicy,
  type MedicalSplit,
  type MedicalSplitInput,
  type YearToDate,
} from '../../src/domain/medical/index.js';

const policy: MedicalPolicy = { deductibleAnnualFen: 80_000n, fundRate: '0.70', annualFundCapFen: 30_000_000n };
const fresh: YearToDate = { deductibleUsedFen: 0n, fundPaidFen: 0n };

function item(amountFen: bigint, eligible = true, code = 'X01'): MedicalItem {
  return { code, amountFen, eligible };
}

function split(over: Partial<MedicalSplitInput>): MedicalSplit {
  const result = computeSplit({
    policy,
    insured: true,
    items: [item(10_000n)],
    ytd: fresh,
    medicalBalanceFen: 10_000_000n,
    purseBalanceFen: 0n,
    usePurse: false,
    ...over,
  });
  if (!result.ok) throw new Error(`unexpected error ${result.error.kind}: ${result.error.message}`);
  return result.split;
}

function money(s: MedicalSplit) {
  return { fund: s.fund, personal: s.personal, purse: s.purse, cash: s.cash, total: s.total };
}

describe('parseMedicalPolicy', () => {
  it('reads the medical section of the demo network file', () => {
    const network = JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')) as {
      medical: unknown;
    };
    expect(parseMedicalPolicy(network.medical)).toEqual(policy);
  });

  it('refuses floats, negatives, missing fields and rates outside [0, 1]', () => {
    const good = { deductibleAnnual: 80000, fundRate: '0.70', annualFundCap: 30000000 };
    expect(() => parseMedicalPolicy({ ...good, deductibleAnnual: 800.5 })).toThrow(MedicalPolicyError);
    expect(() => parseMedicalPolicy({ ...good, annualFundCap: -1 })).toThrow(MedicalPolicyError);
    expect(() => parseMedicalPolicy({ fundRate: '0.70', annualFundCap: 1 })).toThrow(MedicalPolicyError);
    expect(() => parseMedicalPolicy({ ...good, fundRate: '1.5' })).toThrow(MedicalPolicyError);
    expect(() => parseMedicalPolicy({ ...good, fundRate: 0.7 })).toThrow(MedicalPolicyError);
    expect(() => parseMedicalPolicy(null)).toThrow(MedicalPolicyError);
    expect(parseMedicalPolicy({ ...good, fundRate: '1' }).fundRate).toBe('1');
    expect(parseMedicalPolicy({ ...good, fundRate: '0' }).fundRate).toBe('0');
  });

  it('puts a settlement in the year of its business date', () => {
    expect(medicalYearOf('2025-12-31')).toBe(2025);
    expect(medicalYearOf('2026-01-01')).toBe(2026);
  });
});

describe('computeSplit, worked by hand', () => {
  it('first claim of the year, all under the deductible: everything personal', () => {
    // eligible 30,000 fen (300.00 yuan); deductible left 80,000 − 0 = 80,000
    // deductible part = min(30,000, 80,000) = 30,000; above it 0 → fund 0.70 × 0 = 0
    // personal side 30,000, medical account 100,000 covers it.
    const s = split({ items: [item(30_000n)], medicalBalanceFen: 100_000n });
    expect(money(s)).toEqual({ fund: 0n, personal: 30_000n, purse: 0n, cash: 0n, total: 30_000n });
    expect(s.deductiblePart).toBe(30_000n);
    expect(s.ytdAfter).toEqual({ deductibleUsedFen: 30_000n, fundPaidFen: 0n });
  });

  it('over the deductible: the rest is shared at 70%, rounded half-even', () => {
    // ytd deductible used 50,000 → left 80,000 − 50,000 = 30,000
    // eligible 60,000 + 50,015 = 110,015; deductible part 30,000; above it 80,015
    // fund 0.70 × 80,015 = 56,010.5 → half-even → 56,010 (0 is even)
    // personal side 110,015 − 56,010 = 54,005 = 30,000 + (80,015 − 56,010 = 24,005)
    const ytd = { deductibleUsedFen: 50_000n, fundPaidFen: 1_000n };
    const s = split({ items: [item(60_000n), item(50_015n)], ytd, medicalBalanceFen: 200_000n });
    expect(money(s)).toEqual({ fund: 56_010n, personal: 54_005n, purse: 0n, cash: 0n, total: 110_015n });
    expect(s.deductiblePart).toBe(30_000n);
    // ytd: 50,000 + 30,000 = 80,000; 1,000 + 56,010 = 57,010
    expect(s.ytdAfter).toEqual({ deductibleUsedFen: 80_000n, fundPaidFen: 57_010n });

    // the other way round: above the deductible 80,005 → 0.70 × 80,005 = 56,003.5 → 56,004 (4 is even)
    // personal side 110,005 − 56,004 = 54,001
    const t = split({ items: [item(110_005n)], ytd, medicalBalanceFen: 200_000n });
    expect(money(t)).toEqual({ fund: 56_004n, personal: 54_001n, purse: 0n, cash: 0n, total: 110_005n });
  });

  it('a claim crossing the annual fund cap: the fund pays only what the cap leaves', () => {
    // deductible used up; fund paid 29,950,000 → cap left 30,000,000 − 29,950,000 = 50,000
    // eligible 100,000; deductible part 0; share 0.70 × 100,000 = 70,000 → fund min(70,000, 50,000) = 50,000
    // personal side 100,000 − 50,000 = 50,000
    const ytd = { deductibleUsedFen: 80_000n, fundPaidFen: 29_950_000n };
    const s = split({ items: [item(100_000n)], ytd, medicalBalanceFen: 1_000_000n });
    expect(money(s)).toEqual({ fund: 50_000n, personal: 50_000n, purse: 0n, cash: 0n, total: 100_000n });
    expect(s.ytdAfter).toEqual({ deductibleUsedFen: 80_000n, fundPaidFen: 30_000_000n });

    // the next claim of the year: cap left 0 → the fund pays nothing, 20,000 is all personal
    const next = split({ items: [item(20_000n)], ytd: s.ytdAfter, medicalBalanceFen: 1_000_000n });
    expect(money(next)).toEqual({ fund: 0n, personal: 20_000n, purse: 0n, cash: 0n, total: 20_000n });
    expect(next.ytdAfter).toEqual(s.ytdAfter);
  });

  it('an uninsured citizen: no fund share and the deductible does not accumulate', () => {
    // eligible 100,000, not insured → fund 0, deductible part 0; personal side 100,000
    // medical account 20,000 pays 20,000; purse not used → cash 100,000 − 20,000 = 80,000
    const s = split({ insured: false, items: [item(100_000n)], medicalBalanceFen: 20_000n, purseBalanceFen: 50_000n });
    expect(money(s)).toEqual({ fund: 0n, personal: 20_000n, purse: 0n, cash: 80_000n, total: 100_000n });
    expect(s.deductiblePart).toBe(0n);
    expect(s.ytdAfter).toEqual(fresh);
    expect(s.explanation.join('\n')).toContain('not insured');
  });

  it('a medical account too small, without and with the purse', () => {
    // deductible used up; eligible 100,000 → fund 0.70 × 100,000 = 70,000; personal side 30,000
    // medical account 12,000 pays 12,000; rest 18,000
    const ytd = { deductibleUsedFen: 80_000n, fundPaidFen: 0n };
    const base = { items: [item(100_000n)], ytd, medicalBalanceFen: 12_000n, purseBalanceFen: 50_000n };
    // without the purse: cash 18,000
    expect(money(split({ ...base, usePurse: false }))).toEqual({ fund: 70_000n, personal: 12_000n, purse: 0n, cash: 18_000n, total: 100_000n });
    // with the purse (50,000 ≥ 18,000): purse 18,000, cash 0
    expect(money(split({ ...base, usePurse: true }))).toEqual({ fund: 70_000n, personal: 12_000n, purse: 18_000n, cash: 0n, total: 100_000n });
  });

  it('the purse too small as well: the remainder is cash, and a purse in debt pays nothing', () => {
    // as above, rest after the medical account 18,000; purse 5,000 pays 5,000 → cash 18,000 − 5,000 = 13,000
    const ytd = { deductibleUsedFen: 80_000n, fundPaidFen: 0n };
    const base = { items: [item(100_000n)], ytd, medicalBalanceFen: 12_000n, usePurse: true };
    expect(money(split({ ...base, purseBalanceFen: 5_000n }))).toEqual({ fund: 70_000n, personal: 12_000n, purse: 5_000n, cash: 13_000n, total: 100_000n });
    // purse −300 (debt) counts as 0 → purse 0, cash 18,000
    expect(money(split({ ...base, purseBalanceFen: -300n }))).toEqual({ fund: 70_000n, personal: 12_000n, purse: 0n, cash: 18_000n, total: 100_000n });
    // an empty medical account and an empty purse: all 30,000 of the personal side is cash
    expect(money(split({ ...base, medicalBalanceFen: 0n, purseBalanceFen: 0n }))).toEqual({ fund: 70_000n, personal: 0n, purse: 0n, cash: 30_000n, total: 100_000n });
  });

  it('ineligible items are all personal and do not count against the deductible', () => {
    // ytd deductible used 20,000 → left 60,000
    // eligible 50,000 + 40,000 = 90,000; ineligible 8,000 + 2,000 = 10,000; total 100,000
    // deductible part min(90,000, 60,000) = 60,000; above it 30,000 → fund 0.70 × 30,000 = 21,000
    // personal side 100,000 − 21,000 = 79,000 = 60,000 + (30,000 − 21,000 = 9,000) + 10,000
    const items = [item(50_000n, true, 'A1'), item(8_000n, false, 'N1'), item(40_000n, true, 'A2'), item(2_000n, false, 'N2')];
    const s = split({ items, ytd: { deductibleUsedFen: 20_000n, fundPaidFen: 0n }, medicalBalanceFen: 500_000n });
    expect(money(s)).toEqual({ fund: 21_000n, personal: 79_000n, purse: 0n, cash: 0n, total: 100_000n });
    expect(s.eligible).toBe(90_000n);
    expect(s.ineligible).toBe(10_000n);
    expect(s.deductiblePart).toBe(60_000n);
    expect(s.ytdAfter).toEqual({ deductibleUsedFen: 80_000n, fundPaidFen: 21_000n });

    // only ineligible items: no deductible, no fund, all personal
    const only = split({ items: [item(5_000n, false)], medicalBalanceFen: 500_000n });
    expect(money(only)).toEqual({ fund: 0n, personal: 5_000n, purse: 0n, cash: 0n, total: 5_000n });
    expect(only.ytdAfter).toEqual(fresh);
  });

  it('the worked example of docs/medical.md', () => {
    // ytd 50,000 / 1,000,000; items CT 95,005 + drug 15,010 eligible, room 6,000 ineligible
    // eligible 110,015, ineligible 6,000, total 116,015; deductible left 30,000 → part 30,000
    // above 80,015 → 0.70 × 80,015 = 56,010.5 → 56,010; cap left 29,000,000
    // personal side 116,015 − 56,010 = 60,005; medical 45,000; purse min(15,005, 10,000) = 10,000; cash 5,005
    const s = split({
      items: [item(95_005n, true, 'CT01'), item(15_010n, true, 'DRUG7'), item(6_000n, false, 'ROOM1')],
      ytd: { deductibleUsedFen: 50_000n, fundPaidFen: 1_000_000n },
      medicalBalanceFen: 45_000n,
      purseBalanceFen: 10_000n,
      usePurse: true,
    });
    expect(money(s)).toEqual({ fund: 56_010n, personal: 45_000n, purse: 10_000n, cash: 5_005n, total: 116_015n });
    expect(s.ytdAfter).toEqual({ deductibleUsedFen: 80_000n, fundPaidFen: 1_056_010n });
    expect(s.explanation).toHaveLength(7);
  });

  it('cancelling takes the claim back out of the year-to-date state', () => {
    // the over-the-deductible claim above: ytd 50,000 / 1,000 → 80,000 / 57,010; reversed → 50,000 / 1,000
    const ytd = { deductibleUsedFen: 50_000n, fundPaidFen: 1_000n };
    const s = split({ items: [item(110_015n)], ytd });
    expect(reverseYtd(s.ytdAfter, s)).toEqual(ytd);
    // never below zero
    expect(reverseYtd(fresh, s)).toEqual(fresh);
  });
});

describe('computeSplit, validation', () => {
  const base: MedicalSplitInput = {
    policy,
    insured: true,
    items: [item(100n)],
    ytd: fresh,
    medicalBalanceFen: 0n,
    purseBalanceFen: 0n,
    usePurse: false,
  };

  it('refuses an empty claim', () => {
    const r = computeSplit({ ...base, items: [] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'no-items', code: '30' });
  });

  it(`accepts ${itemsMax} items and refuses ${itemsMax + 1}`, () => {
    expect(computeSplit({ ...base, items: Array.from({ length: itemsMax }, () => item(1n)) }).ok).toBe(true);
    const r = computeSplit({ ...base, items: Array.from({ length: itemsMax + 1 }, () => item(1n)) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'too-many-items', code: '30', count: 201, max: 200 });
  });

  it('refuses zero, negative and non-integer amounts with code 13, naming the item', () => {
    for (const amountFen of [0n, -1n, 1.5 as unknown as bigint, 100 as unknown as bigint]) {
      const r = computeSplit({ ...base, items: [item(100n), item(amountFen)] });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ kind: 'invalid-amount', code: '13', index: 1 });
    }
  });

  it('refuses items without a code or an eligible flag', () => {
    const noCode = computeSplit({ ...base, items: [item(100n, true, '')] });
    if (noCode.ok) throw new Error('expected an error');
    expect(noCode.error).toMatchObject({ kind: 'invalid-item', code: '30', index: 0 });
    const noFlag = computeSplit({ ...base, items: [{ code: 'A', amountFen: 1n } as MedicalItem] });
    if (noFlag.ok) throw new Error('expected an error');
    expect(noFlag.error).toMatchObject({ kind: 'invalid-item', index: 0 });
  });

  it('refuses a negative year-to-date state', () => {
    const r = computeSplit({ ...base, ytd: { deductibleUsedFen: -1n, fundPaidFen: 0n } });
    if (r.ok) throw new Error('expected an error');
    expect(r.error).toMatchObject({ kind: 'invalid-year-to-date', code: '96' });
  });
});
