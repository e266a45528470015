// Properties of the medical split calculator over random policies, claims and balances: the parts add
// up, the fund respects the deductible and the annual cap, and year-to-date moves by exactly what a
// claim used. Time-boxed, corpus first (support/fuzz.ts); the worked examples are in test/unit.
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { computeSplit, reverseYtd, type MedicalSplit, type MedicalSplitInput, type YearToDate } from '../../src/domain/medical/index.js';
import { fuzzProperty } from './support/fuzz.js';

const fresh: YearToDate = { deductibleUsedFen: 0n, fundPaidFen: 0n };

describe('computeSplit, properties', () => {
  const rateArb = fc.oneof(
    fc.constantFrom('0', '1', '0.70', '0.5', '0.85', '0.333'),
    fc.integer({ min: 0, max: 10_000 }).map((n) => (n === 10_000 ? '1.0000' : `0.${String(n).padStart(4, '0')}`)),
  );
  const policyArb = fc.record({
    deductibleAnnualFen: fc.bigInt({ min: 0n, max: 200_000n }),
    fundRate: rateArb,
    annualFundCapFen: fc.bigInt({ min: 0n, max: 1_000_000n }),
  });
  const itemArb = fc.record({ code: fc.constantFrom('A', 'B', 'C'), amountFen: fc.bigInt({ min: 1n, max: 500_000n }), eligible: fc.boolean() });
  const ytdArb = fc.record({ deductibleUsedFen: fc.bigInt({ min: 0n, max: 300_000n }), fundPaidFen: fc.bigInt({ min: 0n, max: 1_200_000n }) });
  const inputArb: fc.Arbitrary<MedicalSplitInput> = fc.record({
    policy: policyArb,
    insured: fc.boolean(),
    items: fc.array(itemArb, { minLength: 1, maxLength: 20 }),
    ytd: ytdArb,
    medicalBalanceFen: fc.bigInt({ min: -1_000n, max: 2_000_000n }),
    purseBalanceFen: fc.bigInt({ min: -1_000n, max: 2_000_000n }),
    usePurse: fc.boolean(),
  });

  function mustSplit(input: MedicalSplitInput): MedicalSplit {
    const r = computeSplit(input);
    if (!r.ok) throw new Error(r.error.message);
    return r.split;
  }

  // fast-check's default of 100 runs was these properties' count before the time box.
  const numRunsMax = 100;

  fuzzProperty({
    id: 'medical-split-sums',
    title: 'fund + personal + purse + cash = total = eligible + ineligible, none negative',
    arbitraries: [inputArb],
    predicate: (input) => {
      const s = mustSplit(input);
      const sum = input.items.reduce((a, i) => a + i.amountFen, 0n);
      expect(s.fund + s.personal + s.purse + s.cash).toBe(s.total);
      expect(s.total).toBe(sum);
      expect(s.eligible + s.ineligible).toBe(s.total);
      for (const v of [s.fund, s.personal, s.purse, s.cash, s.deductiblePart]) expect(v >= 0n).toBe(true);
      expect(s.personal <= (input.medicalBalanceFen > 0n ? input.medicalBalanceFen : 0n)).toBe(true);
      expect(s.purse <= (input.purseBalanceFen > 0n ? input.purseBalanceFen : 0n)).toBe(true);
      if (!input.usePurse) expect(s.purse).toBe(0n);
      if (!input.insured) expect(s.fund).toBe(0n);
    },
    numRunsMax,
  });

  fuzzProperty({
    id: 'medical-split-fund-bounds',
    title: 'the fund never exceeds what the cap leaves, nor the eligible amount above the deductible',
    arbitraries: [inputArb],
    predicate: (input) => {
      const s = mustSplit(input);
      const capLeft = input.policy.annualFundCapFen - input.ytd.fundPaidFen;
      expect(s.fund <= (capLeft > 0n ? capLeft : 0n)).toBe(true);
      expect(s.fund <= s.eligible - s.deductiblePart).toBe(true);
    },
    numRunsMax,
  });

  fuzzProperty({
    id: 'medical-split-ytd',
    title: 'year-to-date only grows, by the deductible part and the fund share, and reverseYtd restores it',
    arbitraries: [inputArb],
    predicate: (input) => {
      const s = mustSplit(input);
      expect(s.ytdAfter.deductibleUsedFen >= input.ytd.deductibleUsedFen).toBe(true);
      expect(s.ytdAfter.fundPaidFen >= input.ytd.fundPaidFen).toBe(true);
      expect(s.ytdAfter.deductibleUsedFen - input.ytd.deductibleUsedFen).toBe(s.deductiblePart);
      expect(s.ytdAfter.fundPaidFen - input.ytd.fundPaidFen).toBe(s.fund);
      expect(reverseYtd(s.ytdAfter, s)).toEqual(input.ytd);
    },
    numRunsMax,
  });

  fuzzProperty({
    id: 'medical-split-year',
    title: 'over a year of claims the fund never pays more than the cap, and the deductible fills exactly once',
    arbitraries: [policyArb, fc.array(fc.array(itemArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 })],
    predicate: (pol, claims) => {
      let ytd: YearToDate = fresh;
      let eligibleSoFar = 0n;
      for (const items of claims) {
        const s = mustSplit({ policy: pol, insured: true, items, ytd, medicalBalanceFen: 0n, purseBalanceFen: 0n, usePurse: false });
        eligibleSoFar += s.eligible;
        ytd = s.ytdAfter;
        expect(ytd.fundPaidFen <= pol.annualFundCapFen).toBe(true);
        expect(ytd.deductibleUsedFen).toBe(eligibleSoFar < pol.deductibleAnnualFen ? eligibleSoFar : pol.deductibleAnnualFen);
      }
    },
    numRunsMax,
  });
});
