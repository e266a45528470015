// Limits of small payments, from the fare policy file's `payments` section.

export interface PaymentLimits {
  perTransactionMaxFen: bigint;
  dailyMaxFen: bigint;
  noPinMaxFen: bigint;
}

export const pinTriesMax = 3;

export function parsePaymentLimits(json: unknown): PaymentLimits {
  const p = json as Record<string, unknown> | null;
  const read = (name: string): bigint => {
    const v = p?.[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new Error(`policy payments.${name} must be a positive integer of fen`);
    return BigInt(v);
  };
  return { perTransactionMaxFen: read('perTransactionMax'), dailyMaxFen: read('dailyMax'), noPinMaxFen: read('noPinMax') };
}
