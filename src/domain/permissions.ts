// What each kind of terminal may do (DESIGN §5); anything else is declined with code 58.

export type TerminalKind = 'bus' | 'gate' | 'taxi' | 'pos' | 'kiosk';
export type MerchantCategory = 'retail' | 'medical';
export type TerminalAction = 'tap' | 'hotlist' | 'payment' | 'reversal' | 'refund' | 'topup' | 'balance' | 'transactions' | 'medical';
export type TopupChannel = 'kiosk' | 'bank' | 'app' | 'counter';

export interface TerminalIdentity {
  kind: TerminalKind;
  merchantCategory: MerchantCategory | null;
}

const allowed: Record<string, readonly TerminalAction[]> = {
  bus: ['tap', 'hotlist'],
  gate: ['tap', 'hotlist'],
  taxi: ['tap', 'hotlist'],
  'pos:retail': ['payment', 'reversal', 'refund', 'topup', 'balance'],
  'pos:medical': ['medical', 'payment', 'reversal', 'refund', 'balance'],
  kiosk: ['topup', 'balance', 'transactions'],
};

const topupChannelOf: Partial<Record<TerminalKind, TopupChannel>> = { kiosk: 'kiosk', pos: 'counter' };

export function terminalMay(terminal: TerminalIdentity, action: TerminalAction): boolean {
  const key = terminal.kind === 'pos' ? `pos:${terminal.merchantCategory ?? 'retail'}` : terminal.kind;
  return (allowed[key] ?? []).includes(action);
}

/** A terminal tops up only through its own channel; `bank` and `app` are back-end (admin) channels. */
export function terminalMayTopup(terminal: TerminalIdentity, channel: TopupChannel): boolean {
  return terminalMay(terminal, 'topup') && topupChannelOf[terminal.kind] === channel;
}
