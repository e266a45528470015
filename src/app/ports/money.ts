// Ports of the money use cases (top-ups, payments, reversals, refunds): the refund holds and the
// payment/reversal race shared by every process (implemented by adapters/redis/refund-holds.ts and
// adapters/redis/payment-race.ts).

export type HoldResult = { kind: 'held'; amountFen: bigint; fresh: boolean } | { kind: 'reversed' } | { kind: 'over' } | { kind: 'none' };

export interface HoldRequest {
  cardNo: string;
  /** The payment's scoped id `<terminal>/<paymentId>`. */
  paymentId: string;
  paymentFen: bigint;
  /** What the ledger holds as refunded and reversed: the hold's value if it has to be rebuilt. */
  ledgerRefundedFen: bigint;
  ledgerReversedFen: bigint;
}

/**
 * A payment's refundable remainder, held atomically before a refund or reversal is committed, so
 * that processes together cannot give back more than the payment.
 */
export interface RefundHoldsPort {
  /** Holds `amountFen` of the payment for refund `refundId` (scoped `<terminal>/<id>`). */
  refund(req: HoldRequest & { refundId: string; amountFen: bigint }): Promise<HoldResult>;
  /** Holds what is left of the payment for its reversal. */
  reversal(req: HoldRequest): Promise<HoldResult>;
  releaseRefund(cardNo: string, paymentId: string, refundId: string): Promise<void>;
  releaseReversal(cardNo: string, paymentId: string): Promise<void>;
}

export type ReversalClaim = { kind: 'remembered' } | { kind: 'payment-started'; cardNo: string };

/** Who came first, a payment or its reversal, shared by every process (scoped to the terminal). */
export interface PaymentRacePort {
  /** Before a payment moves money: false when its reversal came first (the payment must be declined). */
  paymentMayGo(terminalId: string, paymentId: string, cardNo: string): Promise<boolean>;
  /** A reversal that found no committed payment: remembered if it came first, else the payment's card. */
  reversalFirst(terminalId: string, paymentId: string): Promise<ReversalClaim>;
  /** Whether the payment (its scoped id `<terminal>/<id>`) was decided as a decline, so nothing moved. */
  paymentDeclined(cardNo: string, scopedPaymentId: string): Promise<boolean>;
}
