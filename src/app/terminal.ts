// The authenticated caller of a money command: a registered terminal, or the back office (admin).
import type { MerchantCategory, TerminalKind } from '../domain/permissions.js';

export interface TerminalContext {
  terminalId: string;
  kind: TerminalKind;
  operatorId: string | null;
  merchantId: string | null;
  merchantCategory: MerchantCategory | null;
  routeId: string | null;
  stationId: string | null;
}

export type Caller = { type: 'admin' } | { type: 'terminal'; terminal: TerminalContext } | { type: 'citizen'; cardNo: string };
