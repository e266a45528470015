// The Redis side of the hot path: runs the gate scripts on a card's cached state, installs state
// from PostgreSQL on a miss, and records, finalizes or undoes commands.
import { performance } from 'node:perf_hooks';
import { commandScope, type ScopedCommand } from '../../domain/command-scope.js';
import { loadLua, type CardRedis, type ScriptReply } from './client.js';
import type { RedisKeys } from './keys.js';
import type { CardSnapshot, GateCredit, GateDebit, GateResult, OpRecord } from '../../app/ports.js';
import { isResponseCode } from '../../domain/codes.js';

export const opRecordTtlSeconds = 7 * 24 * 3600;
export const declineRecordTtlSeconds = 24 * 3600;
/** A card's transit day state (keys.cardFare) outlives its day, so the next day's first tap sees an open journey. */
export const fareStateTtlSeconds = 2 * 24 * 3600;

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

const scopedId = (call: OpRef): string => {
  const scope = commandScope(call);
  return scope ? `${scope}/${call.opId}` : call.opId;
};

export class CardGate {
  /** Observer of each gate script's time in seconds (the Redis gate latency metric). */
  onGate: ((seconds: number) => void) | null = null;

  constructor(
    readonly redis: CardRedis,
    readonly keys: RedisKeys,
  ) {}

  pendingMember(call: OpRef): string {
    return `${call.cardNo} ${call.opKind}:${scopedId(call)}`;
  }

  /** The command's idempotency record key; a scoped client id (DESIGN §11) is `<scope>/<id>`. */
  opKey(call: OpRef): string {
    return this.keys.cardOp(call.cardNo, call.opKind, scopedId(call));
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
    const keys = [this.keys.cardState(call.cardNo), this.opKey(call), this.keys.pending()];
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
          ]);
    return parseGateReply(reply);
  }

  /** A transit tap: authorize.lua with its KEYS[4], the card's fare state, checked and set with the debit. */
  private async runTap(call: GateCall, g: GateDebit, fare: NonNullable<GateDebit['fare']>, keys: string[], member: string): Promise<GateResult> {
    const args = [call.requestHash, call.businessDate, g.purseFen.toString(), g.medicalFen.toString(), g.dailyAddFen.toString(), g.dailyMaxFen.toString(), member, opRecordTtlSeconds, debtArg(g)];
    const reply = await this.fareScript('authorize', 4)([...keys, this.keys.cardFare(call.cardNo)], [...args, fare.expectedVersion, fare.next, fareStateTtlSeconds]);
    return parseGateReply(reply);
  }

  /** ioredis fixes a command's key count: the 4-key authorize.lua and tap-fare-undo.lua are defined on first use. */
  private fareScript(file: 'authorize' | 'tap-fare-undo', numberOfKeys: number): (keys: string[], args: (string | number)[]) => Promise<ScriptReply> {
    const name = `cc_fare_${file.replace(/-/g, '_')}`;
    const commands = this.redis as unknown as Record<string, ((...a: (string | number)[]) => Promise<ScriptReply>) | undefined>;
    if (typeof commands[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys, lua: loadLua(file) });
    return (keys, args) => commands[name]!.call(this.redis, ...keys, ...args);
  }

  async finalize(call: OpRef, record: OpRecord): Promise<void> {
    await this.redis.runScript('finalize', [this.opKey(call), this.keys.pending()], [
      JSON.stringify(record),
      opRecordTtlSeconds,
      this.pendingMember(call),
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
      [this.keys.cardState(call.cardNo), this.opKey(call), this.keys.pending()],
      [(sign * g.purseFen).toString(), (sign * g.medicalFen).toString(), daily.toString(), call.businessDate, this.pendingMember(call)],
    );
    if (g.type === 'debit' && g.fare) await this.fareScript('tap-fare-undo', 1)([this.keys.cardFare(call.cardNo)], [g.fare.next, g.fare.previous ?? '', fareStateTtlSeconds]);
  }

  /**
   * Drops the card's cached state and the command's record and pending mark, as startup recovery
   * does: used when a commit's outcome is unknown, so that the card reloads from PostgreSQL.
   */
  async abandon(call: OpRef): Promise<void> {
    const results = await this.redis
      .pipeline()
      .del(this.keys.cardState(call.cardNo), this.keys.cardFare(call.cardNo), this.opKey(call))
      .srem(this.keys.pending(), this.pendingMember(call))
      .exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }

  async install(snapshot: CardSnapshot): Promise<boolean> {
    const installed = await this.redis.runScript('load-card', [this.keys.cardState(snapshot.cardNo)], snapshotFields(snapshot));
    return Number(installed) === 1;
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
