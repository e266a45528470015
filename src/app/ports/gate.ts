// The authorization gate as the use cases see it: the card's cached state and the command's
// idempotency record, changed atomically per command (implemented by adapters/redis/card-gate.ts).
import type { ScopedCommand } from '../../domain/command-scope.js';
import type { CardSnapshot, GateCredit, GateDebit, GateResult, OpRecord } from '../ports.js';

export interface GateCall {
  cardNo: string;
  opKind: string;
  opId: string;
  terminalId?: string | null;
  detail?: Record<string, unknown> | undefined;
  requestHash: string;
  businessDate: string;
  gate: GateDebit | GateCredit;
}

/** A command's key: a terminal's client ids are scoped to it (DESIGN §11, domain/command-scope.ts). */
export interface OpRef extends ScopedCommand {
  cardNo: string;
  opId: string;
}

export type LoadResult = 'installed' | 'present' | 'unknown' | 'busy';

export interface CardGatePort {
  /** The pending-set member of a command: `<cardNo> <inflightField>`. */
  pendingMember(call: OpRef): string;
  /** The command's field in the card's in-flight hash: `opKind:<scoped id>`. */
  inflightField(call: OpRef): string;
  /** The command's idempotency record key. */
  opKey(call: OpRef): string;
  run(call: GateCall): Promise<GateResult>;
  finalize(call: OpRef, record: OpRecord): Promise<void>;
  remember(call: OpRef, record: OpRecord): Promise<void>;
  readRecord(call: OpRef): Promise<OpRecord | null>;
  undo(call: GateCall): Promise<void>;
  abandon(call: OpRef): Promise<void>;
  abandonMember(cardNo: string, opKind: string, scopedOpId: string, owner: string, onlyIfHeld: boolean): Promise<boolean>;
  loadFrom(cardNo: string, read: () => Promise<CardSnapshot | null>): Promise<LoadResult>;
  install(snapshot: CardSnapshot): Promise<boolean>;
  setFields(cardNo: string, fields: Record<string, string | number>): Promise<void>;
  cachedState(cardNo: string): Promise<Record<string, string>>;
  forget(cardNo: string): Promise<void>;
  /** Deletes the command's record when it is a decline of this request (its retry may then run anew). */
  forgetDecline(call: OpRef, requestHash: string): Promise<void>;
}
