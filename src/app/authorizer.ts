// The hot path shared by every money command: Redis gate (idempotency, status, limits, balance),
// group-committed ledger write, and the reply only after the commit. A failed commit undoes the
// Redis effect and answers 96; the same command id replays the first answer.
import type { CardSource, GateCredit, GateDebit, Ledger, LedgerLeg, OpRecord } from './ports.js';
import type { CardGate } from '../adapters/redis/card-gate.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import type { Logger } from '../platform/logger.js';
import { maskCardNo } from '../domain/card-number.js';

export interface MoneyCommand {
  opKind: string;
  opId: string;
  requestHash: string;
  cardNo: string;
  terminalId: string | null;
  businessDate: string;
  gate: GateDebit | GateCredit;
  legs: LedgerLeg[];
  detail?: Record<string, unknown>;
  /** Builds the stored answer from the committed transfer ids and the balances after the gate. */
  reply(transferIds: bigint[], purseFen: bigint, medicalFen: bigint): Record<string, unknown>;
}

export type MoneyOutcome =
  | { kind: 'approved'; reply: Record<string, unknown>; replayed: boolean }
  | { kind: 'declined'; code: ResponseCode; reply?: Record<string, unknown> }
  | { kind: 'conflict' };

export const pendingWaitMsMax = 5_000;
const pendingPollMs = 5;

export class Authorizer {
  private readonly inflight = new Map<string, Promise<MoneyOutcome>>();
  /** Counts of answers by code, for the operations console and /metrics. */
  readonly outcomes = new Map<string, number>();

  constructor(
    private readonly gate: CardGate,
    private readonly cards: CardSource,
    private readonly ledger: Ledger,
    private readonly log: Logger,
  ) {}

  async execute(cmd: MoneyCommand): Promise<MoneyOutcome> {
    const outcome = await this.executeInner(cmd);
    const code = outcome.kind === 'approved' ? '00' : outcome.kind === 'declined' ? outcome.code : '94';
    this.outcomes.set(code, (this.outcomes.get(code) ?? 0) + 1);
    return outcome;
  }

  private async executeInner(cmd: MoneyCommand): Promise<MoneyOutcome> {
    let gated = await this.gate.run(cmd);
    if (gated.kind === 'missing-card') {
      const snapshot = await this.cards.snapshot(cmd.cardNo, cmd.businessDate);
      if (!snapshot) return { kind: 'declined', code: Code.invalidCard };
      await this.gate.install(snapshot);
      gated = await this.gate.run(cmd);
      if (gated.kind === 'missing-card') return { kind: 'declined', code: Code.systemMalfunction };
    }
    if (gated.kind === 'duplicate') return this.replay(cmd, gated.record);
    if (gated.kind === 'declined') {
      const record: OpRecord = { s: 'd', h: cmd.requestHash, r: { code: gated.code } };
      await this.gate.remember(cmd, record);
      return { kind: 'declined', code: gated.code };
    }
    const key = this.inflightKey(cmd);
    const work = this.commit(cmd, gated.purseFen, gated.medicalFen);
    this.inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  private inflightKey(cmd: { cardNo: string; opKind: string; opId: string }): string {
    return `${cmd.cardNo} ${cmd.opKind}:${cmd.opId}`;
  }

  private async commit(cmd: MoneyCommand, purseFen: bigint, medicalFen: bigint): Promise<MoneyOutcome> {
    let outcome;
    try {
      outcome = await this.ledger.submit({
        opKind: cmd.opKind,
        opId: cmd.opId,
        requestHash: cmd.requestHash,
        cardNo: cmd.cardNo,
        terminalId: cmd.terminalId,
        businessDate: cmd.businessDate,
        legs: cmd.legs,
        detail: { ...cmd.detail, purseAfter: purseFen.toString(), medicalAfter: medicalFen.toString() },
      });
    } catch (error) {
      await this.undoQuietly(cmd);
      this.log.error({ err: error, opKind: cmd.opKind, opId: cmd.opId, card: maskCardNo(cmd.cardNo) }, 'ledger commit failed; Redis effect undone');
      const code = (error as Error).name === 'LedgerOverloadError' ? Code.issuerInoperative : Code.systemMalfunction;
      return { kind: 'declined', code };
    }
    if (outcome.status === 'duplicate') {
      // PostgreSQL already holds this command (the Redis record was lost): undo the second effect
      // and answer from the ledger.
      await this.undoQuietly(cmd);
      if (outcome.requestHash !== cmd.requestHash) return { kind: 'conflict' };
      const reply = cmd.reply(outcome.transferIds, BigInt(String(outcome.detail.purseAfter ?? '0')), BigInt(String(outcome.detail.medicalAfter ?? '0')));
      await this.gate.remember(cmd, { s: 'f', h: cmd.requestHash, r: reply });
      return { kind: 'approved', reply, replayed: true };
    }
    const reply = cmd.reply(outcome.transferIds, purseFen, medicalFen);
    await this.gate.finalize(cmd, { s: 'f', h: cmd.requestHash, r: reply }).catch((error: unknown) => {
      // The ledger holds the command; recovery or the ledger's own key answers a replay.
      this.log.warn({ err: error, opKind: cmd.opKind, opId: cmd.opId }, 'could not finalize idempotency record');
    });
    return { kind: 'approved', reply, replayed: false };
  }

  private async undoQuietly(cmd: MoneyCommand): Promise<void> {
    try {
      await this.gate.undo(cmd);
    } catch (error) {
      // Redis is unreachable too: the pending set keeps the command, and recovery repairs the card.
      this.log.error({ err: error, opKind: cmd.opKind, opId: cmd.opId }, 'could not undo Redis effect');
    }
  }

  private async replay(cmd: MoneyCommand, record: OpRecord): Promise<MoneyOutcome> {
    if (record.h !== cmd.requestHash) return { kind: 'conflict' };
    let current: OpRecord | null = record;
    const deadline = Date.now() + pendingWaitMsMax;
    while (current && current.s === 'p') {
      const local = this.inflight.get(this.inflightKey(cmd));
      if (local) {
        const first = await local;
        return first.kind === 'approved' ? { ...first, replayed: true } : first;
      }
      if (Date.now() > deadline) return { kind: 'declined', code: Code.systemMalfunction };
      await new Promise((r) => setTimeout(r, pendingPollMs));
      current = await this.gate.readRecord(cmd);
    }
    if (!current) return this.executeInner(cmd); // the first attempt was undone: try again
    if (current.h !== cmd.requestHash) return { kind: 'conflict' };
    if (current.s === 'd') return { kind: 'declined', code: String(current.r?.code ?? Code.doNotHonour) as ResponseCode };
    return { kind: 'approved', reply: current.r ?? {}, replayed: true };
  }
}
