// The Redis side of the hot path: runs the gate scripts on a card's cached state, installs state
// from PostgreSQL on a miss, and records, finalizes or undoes commands.
import { performance } from 'node:perf_hooks';
import { commandScope } from '../../domain/command-scope.js';
import { loadLua, type CardRedis, type ScriptReply } from './client.js';
import type { RedisKeys } from './keys.js';
import type { CardSnapshot, GateDebit, GateResult, OpRecord } from '../../app/ports.js';
import type { CardGatePort, GateCall, OpRef } from '../../app/ports/gate.js';

export type { GateCall, OpRef } from '../../app/ports/gate.js';
import { isResponseCode } from '../../domain/codes.js';

export const opRecordTtlSeconds = 7 * 24 * 3600;
export const declineRecordTtlSeconds = 24 * 3600;
/** A card's transit day state (keys.cardFare) outlives its day, so the next day's first tap sees an open journey. */
export const fareStateTtlSeconds = 2 * 24 * 3600;
/** How long a load from PostgreSQL waits for the card's in-flight commands to end (then MISS → 96). */
export const loadBusyWaitMsMax = 2_000;
const loadBusyPollMs = 5;

const scopedId = (call: OpRef): string => {
  const scope = commandScope(call);
  return scope ? `${scope}/${call.opId}` : call.opId;
};

export class CardGate implements CardGatePort {
  /** Observer of each gate script's time in seconds (the Redis gate latency metric). */
  onGate: ((seconds: number) => void) | null = null;

  constructor(
    readonly redis: CardRedis,
    readonly keys: RedisKeys,
  ) {}

  pendingMember(call: OpRef): string {
    return `${call.cardNo} ${this.inflightField(call)}`;
  }

  /** The command's field in the card's in-flight hash: `opKind:<scoped id>`. */
  inflightField(call: OpRef): string {
    return `${call.opKind}:${scopedId(call)}`;
  }

  /** The command's idempotency record key; a scoped client id (DESIGN §11) is `<scope>/<id>`. */
  opKey(call: OpRef): string {
    return this.keys.cardOp(call.cardNo, call.opKind, scopedId(call));
  }

  private markKeys(call: OpRef): string[] {
    return [this.keys.cardState(call.cardNo), this.opKey(call), this.keys.pending(call.cardNo), this.keys.cardInflight(call.cardNo)];
  }

  async run(call: GateCall): Promise<GateResult> {
    if (!this.onGate) return this.runScript(call);
    const startedMs = performance.now();
    try {
      return await this.runScript(call);
    } finally {
      this.onGate((performance.now() - startedMs) / 1000);
    }
  }

  private async runScript(call: GateCall): Promise<GateResult> {
    const keys = this.markKeys(call);
    const member = this.pendingMember(call);
    const g = call.gate;
    if (g.type === 'debit' && g.fare) return this.runTap(call, g, g.fare, keys, member);
    const reply =
      g.type === 'debit'
        ? await this.redis.runScript('authorize', keys, [
            call.requestHash,
            call.businessDate,
            g.purseFen.toString(),
            g.medicalFen.toString(),
            g.dailyAddFen.toString(),
            g.dailyMaxFen.toString(),
            member,
            opRecordTtlSeconds,
            debtArg(g),
            '',
            '',
            '',
            this.inflightField(call),
            this.keys.owner,
          ])
        : await this.redis.runScript('credit', keys, [
            call.requestHash,
            call.businessDate,
            g.purseFen.toString(),
            g.medicalFen.toString(),
            g.dailyGiveBackFen.toString(),
            member,
            opRecordTtlSeconds,
            g.requireActive ? '1' : '0',
            this.inflightField(call),
            this.keys.owner,
          ]);
    return parseGateReply(reply);
  }

  /** A transit tap: authorize.lua with its KEYS[5], the card's fare state, checked and set with the debit. */
  private async runTap(call: GateCall, g: GateDebit, fare: NonNullable<GateDebit['fare']>, keys: string[], member: string): Promise<GateResult> {
    const args = [call.requestHash, call.businessDate, g.purseFen.toString(), g.medicalFen.toString(), g.dailyAddFen.toString(), g.dailyMaxFen.toString(), member, opRecordTtlSeconds, debtArg(g)];
    const reply = await this.fareScript('authorize', 5)([...keys, this.keys.cardFare(call.cardNo)], [...args, fare.expectedVersion, fare.next, fareStateTtlSeconds, this.inflightField(call), this.keys.owner]);
    return parseGateReply(reply);
  }

  /** ioredis fixes a command's key count: the 5-key authorize.lua and tap-fare-undo.lua are defined on first use. */
  private fareScript(file: 'authorize' | 'tap-fare-undo', numberOfKeys: number): (keys: string[], args: (string | number)[]) => Promise<ScriptReply> {
    const name = `cc_fare_${file.replace(/-/g, '_')}`;
    const commands = this.redis as unknown as Record<string, ((...a: (string | number)[]) => Promise<ScriptReply>) | undefined>;
    if (typeof commands[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys, lua: loadLua(file) });
    return (keys, args) => commands[name]!.call(this.redis, ...keys, ...args);
  }

  async finalize(call: OpRef, record: OpRecord): Promise<void> {
    await this.redis.runScript('finalize', [this.opKey(call), this.keys.pending(call.cardNo), this.keys.cardInflight(call.cardNo)], [
      JSON.stringify(record),
      opRecordTtlSeconds,
      this.pendingMember(call),
      this.inflightField(call),
    ]);
  }

  /** Remembers a decline so that a retry with the same id gets the same answer. */
  async remember(call: OpRef, record: OpRecord): Promise<void> {
    await this.redis.set(this.opKey(call), JSON.stringify(record), 'EX', declineRecordTtlSeconds, 'NX');
  }

  async readRecord(call: OpRef): Promise<OpRecord | null> {
    const raw = await this.redis.get(this.opKey(call));
    return raw ? (JSON.parse(raw) as OpRecord) : null;
  }

  async undo(call: GateCall): Promise<void> {
    const g = call.gate;
    const sign = g.type === 'debit' ? 1n : -1n;
    const daily = g.type === 'debit' ? -g.dailyAddFen : g.dailyGiveBackFen;
    await this.redis.runScript(
      'undo',
      this.markKeys(call),
      [(sign * g.purseFen).toString(), (sign * g.medicalFen).toString(), daily.toString(), call.businessDate, this.pendingMember(call), this.inflightField(call)],
    );
    if (g.type === 'debit' && g.fare) await this.fareScript('tap-fare-undo', 1)([this.keys.cardFare(call.cardNo)], [g.fare.next, g.fare.previous ?? '', fareStateTtlSeconds]);
  }

  /**
   * Drops the card's cached state and the command's record and pending mark, as startup recovery
   * does: used when a commit's outcome is unknown, so that the card reloads from PostgreSQL.
   */
  async abandon(call: OpRef): Promise<void> {
    await this.abandonMember(call.cardNo, call.opKind, scopedId(call), this.keys.owner, false);
  }

  /**
   * abandon.lua for an owner's pending mark `cardNo opKind:scopedId` (as found in its pending set);
   * `onlyIfHeld` (recovery of a dead owner) leaves the card alone when its in-flight entry belongs
   * to another owner by now. Returns whether the card was dropped.
   */
  async abandonMember(cardNo: string, opKind: string, scopedOpId: string, owner: string, onlyIfHeld: boolean): Promise<boolean> {
    const field = `${opKind}:${scopedOpId}`;
    const reply = await this.redis.runScript(
      'abandon',
      [this.keys.cardState(cardNo), this.keys.cardFare(cardNo), this.keys.cardOp(cardNo, opKind, scopedOpId), this.keys.pending(cardNo, owner), this.keys.cardInflight(cardNo)],
      [`${cardNo} ${field}`, field, onlyIfHeld ? owner : ''],
    );
    return Number(reply) === 1;
  }

  /**
   * Installs a card's state read from PostgreSQL by `read`, unless state is cached already, or a
   * command of the card is in flight or ended while the snapshot was read (then the snapshot could
   * miss its commit): the in-flight ones end within a batch, so it waits up to `loadBusyWaitMsMax`.
   */
  async loadFrom(cardNo: string, read: () => Promise<CardSnapshot | null>): Promise<'installed' | 'present' | 'unknown' | 'busy'> {
    const deadline = Date.now() + loadBusyWaitMsMax;
    while (true) {
      const [inFlight, generation] = (await this.redis.runScript('card-probe', [this.keys.cardInflight(cardNo)], [])) as [number, string];
      if (Number(inFlight) === 0) {
        const snapshot = await read();
        if (!snapshot) return 'unknown';
        const installed = Number(await this.redis.runScript('load-card', [this.keys.cardState(snapshot.cardNo), this.keys.cardInflight(snapshot.cardNo)], [String(generation), ...snapshotFields(snapshot)]));
        if (installed === 1) return 'installed';
        if (installed === 0) return 'present';
      } else if ((await this.redis.exists(this.keys.cardState(cardNo))) === 1) {
        return 'present';
      }
      if (Date.now() >= deadline) return 'busy';
      await new Promise((r) => setTimeout(r, loadBusyPollMs));
    }
  }

  /** Installs a snapshot at once (tests, tools): refused like loadFrom when a command is in flight. */
  async install(snapshot: CardSnapshot): Promise<boolean> {
    return (await this.loadFrom(snapshot.cardNo, () => Promise.resolve(snapshot))) === 'installed';
  }

  async setFields(cardNo: string, fields: Record<string, string | number>): Promise<void> {
    await this.redis.runScript('set-fields', [this.keys.cardState(cardNo)], Object.entries(fields).flat());
  }

  async cachedState(cardNo: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.cardState(cardNo));
  }

  async forget(cardNo: string): Promise<void> {
    await this.redis.del(this.keys.cardState(cardNo), this.keys.cardFare(cardNo));
  }

  async forgetDecline(call: OpRef, requestHash: string): Promise<void> {
    const record = await this.readRecord(call);
    if (record?.s === 'd' && record.h === requestHash) await this.redis.del(this.opKey(call));
  }
}

/** authorize.lua's ARGV[9]: '0' no debt, '1' unbounded debt, 'cap:<fen>' debt down to −fen, '2' unbounded and whatever the card's status. */
function debtArg(g: GateDebit): string {
  if (!g.allowDebt) return '0';
  // '2': also whatever the card's status (offline rides before a report; corrections), unbounded.
  if (g.ignoreCardStatus) return '2';
  return g.debtMaxFen === undefined ? '1' : `cap:${g.debtMaxFen}`;
}

function snapshotFields(s: CardSnapshot): string[] {
  return [
    'st', s.status,
    'ty', s.cardType,
    'ex', s.expiresOn,
    'pu', s.purseFen.toString(),
    'me', s.medicalFen.toString(),
    'pd', s.paymentDay,
    'ps', s.paymentSpentFen.toString(),
    'pf', String(s.pinFailures),
    'tu', s.typeUntil ?? '',
  ];
}

export function parseGateReply(reply: (string | number)[]): GateResult {
  const tag = String(reply[0]);
  switch (tag) {
    case 'OK':
      return { kind: 'ok', purseFen: BigInt(String(reply[1])), medicalFen: BigInt(String(reply[2])) };
    case 'DUP':
      return { kind: 'duplicate', record: JSON.parse(String(reply[1])) as OpRecord };
    case 'MISS':
      return { kind: 'missing-card' };
    case 'STALE':
      return { kind: 'stale' };
    case 'DECLINE': {
      const code = String(reply[1]);
      if (!isResponseCode(code)) throw new Error(`gate answered unknown code ${code}`);
      return { kind: 'declined', code };
    }
    default:
      throw new Error(`gate answered ${tag}`);
  }
}
