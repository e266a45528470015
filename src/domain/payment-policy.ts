// Limits of small payments, from the fare policy file's `payments` section.

export interface PaymentLimits {
  perTransactionMaxFen: bigint;
  dailyMaxFen: bigint;
  noPinMaxFen: bigint;
  /** An offline advice (ISO 0220) above this is refused (13): a terminal may not approve so much alone. */
  offlineFloorMaxFen: bigint;
  /** The debt (negative purse) offline advices may take a card to; beyond → 51 and the card hot-listed. */
  offlineDebtMaxFen: bigint;
}

/** Defaults of the offline limits when the policy file does not set them (DESIGN §11). */
export const offlineFloorMaxFenDefault = 20_000n;
export const offlineDebtMaxFenDefault = 5_000n;

export const pinTriesMax = 3;

export function parsePaymentLimits(json: unknown): PaymentLimits {
  const p = json as Record<string, unknown> | null;
  const read = (name: string, fallback?: bigint): bigint => {
    const v = p?.[name];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new Error(`policy payments.${name} must be a positive integer of fen`);
    return BigInt(v);
  };
  return {
    perTransactionMaxFen: read('perTransactionMax'),
    dailyMaxFen: read('dailyMax'),
    noPinMaxFen: read('noPinMax'),
    offlineFloorMaxFen: read('offlineFloorMax', offlineFloorMaxFenDefault),
    offlineDebtMaxFen: read('offlineDebtMax', offlineDebtMaxFenDefault),
  };
}
