// The scope of a command's client id (DESIGN §11): a terminal's paymentId, topupId, refundId, tapId
// and claimId (and a payment's reversal, a claim's cancellation) are its own; admin-token top-ups
// share their channel's; every other kind of command has one global scope. Mirrors the journal's
// generated op_scope (migrations 0010b, 0018).

export const scopedOpKinds: readonly string[] = ['payment', 'payment-reversal', 'refund', 'topup', 'tap', 'medical-settle', 'medical-cancel'];

export interface ScopedCommand {
  opKind: string;
  terminalId?: string | null;
  detail?: Record<string, unknown> | undefined;
}

/** '' for a global scope, else the terminal id, or '@<channel>' for an admin-token top-up. */
export function commandScope(c: ScopedCommand): string {
  if (!scopedOpKinds.includes(c.opKind)) return '';
  if (c.terminalId) return c.terminalId;
  const channel = c.detail?.channel;
  return `@${typeof channel === 'string' ? channel : ''}`;
}
