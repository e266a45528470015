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

/** The context of a registered terminal, from its registry row (HTTP auth and the ISO gateway). */
export function terminalContextOf(row: TerminalContext): TerminalContext {
  return {
    terminalId: row.terminalId,
    kind: row.kind,
    operatorId: row.operatorId,
    merchantId: row.merchantId,
    merchantCategory: row.merchantCategory,
    routeId: row.routeId,
    stationId: row.stationId,
  };
}

export type Caller = { type: 'admin' } | { type: 'terminal'; terminal: TerminalContext } | { type: 'citizen'; cardNo: string };
