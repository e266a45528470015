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

// Security limits of the money core (docs/security.md), all in one place.
/** Wrong PIN tries at terminals before the card's PIN is locked (75). */
export const pinTriesMax = 3;
/** How long a PIN lock lasts, unless an operator unlocks it first. */
export const pinLockMs = 24 * 3600_000;
/** Distinct cards one terminal may send wrong PINs for within the window before it is blocked (63). */
export const terminalPinCardsMax = 10;
export const terminalPinWindowMs = 3600_000;
/** How long a reversal waits for its payment that another request still has in flight. */
export const reversalWaitMsMax = 5_000;
/** How long the refundable-remainder reservation of a payment lives in Redis (rebuilt from the ledger after). */
export const refundReserveTtlSeconds = 8 * 24 * 3600;
/** How long a reversal that came before its payment is remembered (the payment is then declined 12). */
export const earlyReversalTtlSeconds = 8 * 24 * 3600;
/**
 * How long a payment's "I am going ahead" mark lives: only while it may be in flight (a later
 * reversal finds it committed in the ledger). Short, because every payment writes one.
 */
export const paymentRaceTtlSeconds = 120;

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
/** A citizen's medical settlement holds the citizen's lease at most this long (it takes milliseconds; a crashed holder's lease ends). */
export const medicalLeaseMs = 15_000;
/** How long a settlement waits for the citizen's lease before answering 96 (retry). */
export const medicalLeaseWaitMsMax = 5_000;
