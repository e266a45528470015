// The hot path shared by every money command: Redis gate (idempotency, status, limits, balance),
// group-committed ledger write, and the reply only after the commit. A failed commit undoes the
// Redis effect and answers 96; the same command id replays the first answer.
import { commandScope } from '../domain/command-scope.js';
import { LedgerOutcomeUnknownError, LedgerOverloadError, type CardSource, type CommittedCommand, type GateCredit, type GateDebit, type Ledger, type LedgerLeg, type OpRecord, type TapRow } from './ports.js';
import type { CardGatePort } from './ports/gate.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import type { Logger } from '../platform/logger.js';
import { maskCardNo } from '../domain/card-number.js';
import { assert } from '../platform/assert.js';

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
  /** A transit tap's row, written with the command (src/app/transit.ts); a tap may have no legs. */
  tap?: TapRow;
  /** Builds the stored answer from the committed transfer ids and the balances after the gate. */
  reply(transferIds: bigint[], purseFen: bigint, medicalFen: bigint): MoneyReply;
}

/**
 * A money command's answer as stored in its idempotency record (JSON, replayed as it was first
 * given): amounts are fen as decimal strings. Each command fills the fields of its kind.
 */
export type MoneyReply = {
  transactionId?: string | null;
  authCode?: string;
  /** Purse after the command. */
  balance?: string;
  /** Medical account after the command. */
  medical?: string;
  /** Transit taps: the fare charged, the journey and the fare engine's explanation. */
  fare?: string;
  journeyId?: string | null;
  explanation?: string[];
  /** Medical settlements: the split. */
  fund?: string;
  personal?: string;
  purse?: string;
  cash?: string;
  total?: string;
};

export type MoneyOutcome =
  | { kind: 'approved'; reply: MoneyReply; replayed: boolean }
  | { kind: 'declined'; code: ResponseCode; reply?: MoneyReply; stale?: boolean }
  | { kind: 'conflict' };

/** A stored record's answer (written by this module from a MoneyReply). */
const storedReply = (record: OpRecord): MoneyReply => (record.r ?? {}) as MoneyReply;

export const pendingWaitMsMax = 5_000;
const pendingPollMs = 5;
/** The wait is bounded by its number of polls (no wall clock here): at least pendingWaitMsMax. */
const pendingPollsMax = Math.ceil(pendingWaitMsMax / pendingPollMs);

/** The ledger as the authorizer uses it: group-committed writes, and the backstop lookup by command key. */
export interface AuthorizerLedger extends Ledger {
  committed(opKind: string, opId: string, opScope?: string): Promise<CommittedCommand | null>;
}

export class Authorizer {
  private readonly inflight = new Map<string, Promise<MoneyOutcome>>();

  constructor(
    private readonly gate: CardGatePort,
    private readonly cards: CardSource,
    private readonly ledger: AuthorizerLedger,
    private readonly log: Logger,
  ) {}

  // Answers are counted where they are sent (the adapters, src/platform/metrics.ts), so that
  // declines decided before the authorizer (unknown card, anti-passback, permission) count too.
  async execute(cmd: MoneyCommand): Promise<MoneyOutcome> {
    return this.executeInner(cmd);
  }

  /**
   * The answer of a command that was already decided (its Redis record, else the ledger), or null
   * when it is new or still in flight. Use cases call it before checks that must not run again on
   * a replay (a PIN check would count a try, or refuse a card locked since the first answer).
   */
  async decided(cmd: MoneyCommand): Promise<MoneyOutcome | null> {
    const record = await this.gate.readRecord(cmd);
    if (record) {
      if (record.h !== cmd.requestHash) return { kind: 'conflict' };
      if (record.s === 'f') return { kind: 'approved', reply: storedReply(record), replayed: true };
      if (record.s === 'd') return { kind: 'declined', code: String(record.r?.code ?? Code.doNotHonour) as ResponseCode };
      return null;
    }
    const known = await this.ledger.committed(cmd.opKind, cmd.opId, commandScope(cmd));
    return known ? this.fromLedger(cmd, known) : null;
  }

  private async executeInner(cmd: MoneyCommand): Promise<MoneyOutcome> {
    let gated = await this.gate.run(cmd);
    if (gated.kind === 'missing-card') {
      const loaded = await this.gate.loadFrom(cmd.cardNo, () => this.cards.snapshot(cmd.cardNo, cmd.businessDate));
      if (loaded === 'unknown') return { kind: 'declined', code: Code.invalidCard };
      gated = await this.gate.run(cmd);
      if (gated.kind === 'missing-card') return { kind: 'declined', code: Code.systemMalfunction };
    }
    if (gated.kind === 'duplicate') return this.replay(cmd, gated.record);
    // A tap rated on a fare state that changed meanwhile: nothing moved; the caller re-rates.
    if (gated.kind === 'stale') return { kind: 'declined', code: Code.systemMalfunction, stale: true };
    if (gated.kind === 'declined') {
      // No Redis record, but the ledger may hold the command (the record expired or Redis lost
      // it): its first answer stands, not a decline from today's balance or status.
      const known = await this.ledger.committed(cmd.opKind, cmd.opId, commandScope(cmd));
      if (known) return this.fromLedger(cmd, known);
      const record: OpRecord = { s: 'd', h: cmd.requestHash, r: { code: gated.code } };
      await this.gate.remember(cmd, record);
      return { kind: 'declined', code: gated.code };
    }
    if (cmd.gate.type === 'debit') {
      // The gate's promise (authorize.lua): an approved debit never takes the medical account below
      // zero, nor the purse unless debt is allowed.
      assert(gated.medicalFen >= 0n, 'an approved debit leaves the medical account >= 0');
      assert(cmd.gate.allowDebt || gated.purseFen >= 0n, 'an approved debit without allowDebt leaves the purse >= 0');
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

  private inflightKey(cmd: MoneyCommand): string {
    return `${cmd.cardNo} ${cmd.opKind}:${commandScope(cmd)}/${cmd.opId}`;
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
        tap: cmd.tap,
      });
    } catch (error) {
      if (error instanceof LedgerOutcomeUnknownError) {
        // The commit may have happened: an undo could be wrong, so the card's cached state is
        // dropped and reloads from PostgreSQL (the truth) on its next use.
        await this.abandonQuietly(cmd);
        this.log.error({ err: error, opKind: cmd.opKind, opId: cmd.opId, card: maskCardNo(cmd.cardNo) }, 'ledger commit outcome unknown; card state dropped');
        return { kind: 'declined', code: Code.systemMalfunction };
      }
      await this.undoQuietly(cmd);
      if (error instanceof LedgerOverloadError) {
        this.log.warn({ opKind: cmd.opKind, opId: cmd.opId, card: maskCardNo(cmd.cardNo) }, 'ledger queue full; refused');
        return { kind: 'declined', code: Code.issuerInoperative };
      }
      this.log.error({ err: error, opKind: cmd.opKind, opId: cmd.opId, card: maskCardNo(cmd.cardNo) }, 'ledger commit failed; Redis effect undone');
      return { kind: 'declined', code: Code.systemMalfunction };
    }
    if (outcome.status === 'duplicate') {
      // PostgreSQL already holds this command (the Redis record was lost): undo the second effect
      // and answer from the ledger.
      await this.undoQuietly(cmd);
      return this.fromLedger(cmd, outcome);
    }
    const reply = cmd.reply(outcome.transferIds, purseFen, medicalFen);
    await this.gate.finalize(cmd, { s: 'f', h: cmd.requestHash, r: reply }).catch((error: unknown) => {
      // The ledger holds the command; recovery or the ledger's own key answers a replay.
      this.log.warn({ err: error, opKind: cmd.opKind, opId: cmd.opId }, 'could not finalize idempotency record');
    });
    return { kind: 'approved', reply, replayed: false };
  }

  /** The first answer of a command the ledger holds, stored again as its Redis record. */
  private async fromLedger(cmd: MoneyCommand, known: CommittedCommand, replacesPending = false): Promise<MoneyOutcome> {
    if (known.requestHash !== cmd.requestHash) return { kind: 'conflict' };
    const reply = cmd.reply(known.transferIds, BigInt(String(known.detail.purseAfter ?? '0')), BigInt(String(known.detail.medicalAfter ?? '0')));
    const record: OpRecord = { s: 'f', h: cmd.requestHash, r: reply };
    // A pending record of a committed command (its finalize failed) is replaced, and its mark cleared.
    if (replacesPending) await this.gate.finalize(cmd, record);
    else await this.gate.remember(cmd, record);
    return { kind: 'approved', reply, replayed: true };
  }

  private async abandonQuietly(cmd: MoneyCommand): Promise<void> {
    try {
      await this.gate.abandon(cmd);
    } catch (error) {
      this.log.error({ err: error, opKind: cmd.opKind, opId: cmd.opId }, 'could not drop card state');
    }
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
    let polls = 0;
    let askedLedger = false;
    while (current && current.s === 'p') {
      const local = this.inflight.get(this.inflightKey(cmd));
      if (local) {
        const first = await local;
        return first.kind === 'approved' ? { ...first, replayed: true } : first;
      }
      // Not in flight here: the first attempt may have committed without its record being
      // finalized (Redis failed at that moment). The ledger is asked once now and after the last poll.
      const late = polls >= pendingPollsMax;
      if (!askedLedger || late) {
        askedLedger = true;
        const known = await this.ledger.committed(cmd.opKind, cmd.opId, commandScope(cmd));
        if (known) return this.fromLedger(cmd, known, true);
        if (late) return { kind: 'declined', code: Code.systemMalfunction };
      }
      await new Promise((r) => setTimeout(r, pendingPollMs));
      polls++;
      current = await this.gate.readRecord(cmd);
    }
    if (!current) return this.executeInner(cmd); // the first attempt was undone: try again
    if (current.h !== cmd.requestHash) return { kind: 'conflict' };
    if (current.s === 'd') return { kind: 'declined', code: String(current.r?.code ?? Code.doNotHonour) as ResponseCode };
    return { kind: 'approved', reply: storedReply(current), replayed: true };
  }
}
