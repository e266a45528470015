// Medical bill split (pure, no I/O): who pays what of one settlement — the pooled fund, the card's
// medical account, the purse, or cash at the counter — under the annual deductible and fund cap.
import { Code } from '../codes.js';
import { applyRate, formatYuan, maxFen, minFen, type Fen } from '../money.js';

/** Most items one claim may carry. */
export const itemsMax = 200;

/** Longest item code accepted (a hospital's charge code). */
export const itemCodeMaxLength = 64;

export interface MedicalPolicy {
  /** Eligible spending per citizen per calendar year that the fund does not share in. */
  deductibleAnnualFen: Fen;
  /** Share of the eligible amount above the deductible that the fund pays, a decimal string in [0, 1]. */
  fundRate: string;
  /** Most the fund pays per citizen per calendar year. */
  annualFundCapFen: Fen;
}

export interface MedicalItem {
  code: string;
  amountFen: Fen;
  eligible: boolean;
}

/** Per citizen per calendar year (the year of the settlement's business date). */
export interface YearToDate {
  deductibleUsedFen: Fen;
  fundPaidFen: Fen;
}

export interface MedicalSplitInput {
  policy: MedicalPolicy;
  insured: boolean;
  items: readonly MedicalItem[];
  ytd: YearToDate;
  /** The card's medical account balance now (a negative balance counts as zero). */
  medicalBalanceFen: Fen;
  /** The card's purse balance now (a negative balance, i.e. debt, counts as zero). */
  purseBalanceFen: Fen;
  usePurse: boolean;
}

export interface MedicalSplit {
  /** Paid by the pooled `medical_fund`. */
  fund: Fen;
  /** Paid from the card's `medical` account. */
  personal: Fen;
  /** Paid from the card's `purse` (only when usePurse). */
  purse: Fen;
  /** Paid in cash at the counter (recorded, not moved). */
  cash: Fen;
  /** Sum of all items = fund + personal + purse + cash. */
  total: Fen;
  /** Sum of eligible items. */
  eligible: Fen;
  /** Sum of ineligible items. */
  ineligible: Fen;
  /** Part of the eligible amount that counted against the annual deductible (0 when uninsured). */
  deductiblePart: Fen;
  /** Year-to-date state after this settlement. */
  ytdAfter: YearToDate;
  /** One line per step, for receipts and support. */
  explanation: string[];
}

export type MedicalSplitError =
  | { kind: 'no-items'; code: typeof Code.formatError; message: string }
  | { kind: 'too-many-items'; code: typeof Code.formatError; message: string; count: number; max: number }
  | { kind: 'invalid-item'; code: typeof Code.formatError; message: string; index: number }
  | { kind: 'invalid-amount'; code: typeof Code.invalidAmount; message: string; index: number }
  | { kind: 'invalid-year-to-date'; code: typeof Code.systemMalfunction; message: string };

export type MedicalSplitResult = { ok: true; split: MedicalSplit } | { ok: false; error: MedicalSplitError };

export class MedicalPolicyError extends Error {
  override name = 'MedicalPolicyError';
}

const rateRe = /^(0(\.\d{1,12})?|1(\.0{1,12})?)$/;

function parseFenField(obj: Record<string, unknown>, field: string): Fen {
  const v = obj[field];
  if (typeof v === 'bigint') {
    if (v >= 0n) return v;
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  } else if (typeof v === 'string') {
    if (/^\d{1,18}$/.test(v)) return BigInt(v);
  }
  throw new MedicalPolicyError(`medical policy: ${field} must be a non-negative integer number of fen`);
}

/**
 * Reads the `medical` section of the network file:
 * `{deductibleAnnual, fundRate, annualFundCap, rule?}` (amounts in fen as JSON integers).
 * Throws MedicalPolicyError on anything else: a bad policy is a configuration error found at start.
 */
export function parseMedicalPolicy(json: unknown): MedicalPolicy {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MedicalPolicyError('medical policy: expected an object');
  }
  const obj = json as Record<string, unknown>;
  const deductibleAnnualFen = parseFenField(obj, 'deductibleAnnual');
  const annualFundCapFen = parseFenField(obj, 'annualFundCap');
  const fundRate = obj.fundRate;
  if (typeof fundRate !== 'string' || !rateRe.test(fundRate)) {
    throw new MedicalPolicyError('medical policy: fundRate must be a decimal string between 0 and 1, such as "0.70"');
  }
  return { deductibleAnnualFen, fundRate, annualFundCapFen };
}

/** The year whose year-to-date state a settlement on this business date (YYYY-MM-DD) belongs to. */
export function medicalYearOf(businessDate: string): number {
  return Number(businessDate.slice(0, 4));
}

function validate(input: MedicalSplitInput): MedicalSplitError | null {
  const { items, ytd } = input;
  if (!Array.isArray(items) || items.length === 0) {
    return { kind: 'no-items', code: Code.formatError, message: 'a claim needs at least one item' };
  }
  if (items.length > itemsMax) {
    return {
      kind: 'too-many-items',
      code: Code.formatError,
      message: `a claim may carry at most ${itemsMax} items, got ${items.length}`,
      count: items.length,
      max: itemsMax,
    };
  }
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as MedicalItem | undefined;
    if (typeof item !== 'object' || item === null) {
      return { kind: 'invalid-item', code: Code.formatError, message: `item ${index} is not an object`, index };
    }
    if (typeof item.code !== 'string' || item.code.length === 0 || item.code.length > itemCodeMaxLength) {
      return {
        kind: 'invalid-item',
        code: Code.formatError,
        message: `item ${index}: code must be 1–${itemCodeMaxLength} characters`,
        index,
      };
    }
    if (typeof item.eligible !== 'boolean') {
      return { kind: 'invalid-item', code: Code.formatError, message: `item ${index}: eligible must be true or false`, index };
    }
    if (typeof item.amountFen !== 'bigint' || item.amountFen <= 0n) {
      return {
        kind: 'invalid-amount',
        code: Code.invalidAmount,
        message: `item ${index}: amount must be a positive whole number of fen`,
        index,
      };
    }
  }
  if (
    typeof ytd?.deductibleUsedFen !== 'bigint' ||
    typeof ytd.fundPaidFen !== 'bigint' ||
    ytd.deductibleUsedFen < 0n ||
    ytd.fundPaidFen < 0n
  ) {
    return { kind: 'invalid-year-to-date', code: Code.systemMalfunction, message: 'year-to-date amounts must be non-negative' };
  }
  return null;
}

/**
 * Splits one medical bill (DESIGN §5, `medical.rule` of the network file):
 * 1. the eligible amount fills what is left of the annual deductible first (personal side);
 * 2. the fund pays fundRate of the eligible rest, half-even to fen, at most what is left of the annual cap;
 * 3. the personal side (deductible part + eligible part the fund does not pay + every ineligible item)
 *    is paid from the medical account as far as it goes, then from the purse when usePurse (never
 *    below zero), then in cash.
 * Uninsured citizens get no fund share and their deductible does not accumulate.
 */
export function computeSplit(input: MedicalSplitInput): MedicalSplitResult {
  const error = validate(input);
  if (error) return { ok: false, error };
  const { policy, insured, items, ytd, usePurse } = input;
  const explanation: string[] = [];

  let eligible = 0n;
  let ineligible = 0n;
  for (const item of items) {
    if (item.eligible) eligible += item.amountFen;
    else ineligible += item.amountFen;
  }
  const total = eligible + ineligible;
  explanation.push(
    `items: ${items.length}, eligible ${formatYuan(eligible)}, ineligible ${formatYuan(ineligible)}, total ${formatYuan(total)} yuan`,
  );

  let deductiblePart = 0n;
  let fund = 0n;
  if (insured) {
    const deductibleLeft = maxFen(0n, policy.deductibleAnnualFen - ytd.deductibleUsedFen);
    deductiblePart = minFen(eligible, deductibleLeft);
    explanation.push(
      `deductible: ${formatYuan(deductibleLeft)} of ${formatYuan(policy.deductibleAnnualFen)} left this year; ` +
        `${formatYuan(deductiblePart)} of the eligible amount counts against it (personal)`,
    );
    const aboveDeductible = eligible - deductiblePart;
    const share = applyRate(aboveDeductible, policy.fundRate);
    const capLeft = maxFen(0n, policy.annualFundCapFen - ytd.fundPaidFen);
    fund = minFen(share, capLeft);
    explanation.push(
      `fund: ${policy.fundRate} × ${formatYuan(aboveDeductible)} = ${formatYuan(share)} (half-even to fen); ` +
        `cap left ${formatYuan(capLeft)} of ${formatYuan(policy.annualFundCapFen)}; fund pays ${formatYuan(fund)}`,
    );
  } else {
    explanation.push('not insured: no fund share, the annual deductible does not accumulate');
  }

  const personalSide = total - fund;
  explanation.push(
    `personal side: ${formatYuan(personalSide)} = deductible ${formatYuan(deductiblePart)} + ` +
      `eligible not paid by the fund ${formatYuan(eligible - deductiblePart - fund)} + ineligible ${formatYuan(ineligible)}`,
  );

  const medicalAvailable = maxFen(0n, input.medicalBalanceFen);
  const personal = minFen(personalSide, medicalAvailable);
  let rest = personalSide - personal;
  explanation.push(`medical account (balance ${formatYuan(input.medicalBalanceFen)}) pays ${formatYuan(personal)}`);

  let purse = 0n;
  if (usePurse) {
    purse = minFen(rest, maxFen(0n, input.purseBalanceFen));
    rest -= purse;
    explanation.push(`purse (balance ${formatYuan(input.purseBalanceFen)}) pays ${formatYuan(purse)}`);
  } else if (rest > 0n) {
    explanation.push('purse not used');
  }
  const cash = rest;
  explanation.push(`cash at the counter: ${formatYuan(cash)}`);

  const ytdAfter: YearToDate = {
    deductibleUsedFen: ytd.deductibleUsedFen + deductiblePart,
    fundPaidFen: ytd.fundPaidFen + fund,
  };

  return {
    ok: true,
    split: { fund, personal, purse, cash, total, eligible, ineligible, deductiblePart, ytdAfter, explanation },
  };
}

/**
 * Year-to-date state after cancelling a settled claim: takes back the claim's deductible part and
 * fund share from the year the claim was settled in. Never goes below zero.
 */
export function reverseYtd(ytd: YearToDate, split: Pick<MedicalSplit, 'deductiblePart' | 'fund'>): YearToDate {
  return {
    deductibleUsedFen: maxFen(0n, ytd.deductibleUsedFen - split.deductiblePart),
    fundPaidFen: maxFen(0n, ytd.fundPaidFen - split.fund),
  };
}
