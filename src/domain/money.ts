// Money is bigint fen end to end. Rates (commission, fund share) go through decimal.js with one
// rounding rule: half-even to whole fen.
import { Decimal } from 'decimal.js';

export type Fen = bigint;

const RateDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

/** amount × rate, rounded half-even to whole fen. `rate` is a decimal string such as "0.0050". */
export function applyRate(amountFen: Fen, rate: string): Fen {
  const product = new RateDecimal(amountFen.toString()).times(new RateDecimal(rate));
  return BigInt(product.toDecimalPlaces(0, RateDecimal.ROUND_HALF_EVEN).toFixed(0));
}

/** amount × percent / 100, rounded half-even to whole fen. */
export function applyPercent(amountFen: Fen, percent: number | string): Fen {
  return applyRate(amountFen, new RateDecimal(String(percent)).div(100).toString());
}

/** Fen as a JSON integer (answers, reports); amounts stay below 2^53 by the limits, and a larger one is refused. */
export function fenToJson(amountFen: Fen | string | number): number {
  const n = Number(amountFen);
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount ${String(amountFen)} fen is not a safe JSON integer`);
  return n;
}

export function minFen(a: Fen, b: Fen): Fen {
  return a < b ? a : b;
}

export function maxFen(a: Fen, b: Fen): Fen {
  return a > b ? a : b;
}

/** Renders fen as yuan for people (never parsed back). */
export function formatYuan(amountFen: Fen): string {
  const negative = amountFen < 0n;
  const abs = negative ? -amountFen : amountFen;
  return `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}
