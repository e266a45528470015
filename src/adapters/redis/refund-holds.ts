// A payment's refundable remainder, held atomically in Redis under the card's hash tag before a
// refund or reversal is committed, so that processes sharing one Redis cannot together give back
// more than the payment. A lost hold (crash) only refuses; a missing key is rebuilt from the ledger.
import { loadLua, type CardRedis, type ScriptReply } from './client.js';
import type { RedisKeys } from './keys.js';
import { refundReserveTtlSeconds } from '../../domain/payment-policy.js';
import type { HoldRequest, HoldResult, RefundHoldsPort } from '../../app/ports/money.js';

export type { HoldRequest, HoldResult } from '../../app/ports/money.js';

type Command = (keys: string[], args: (string | number)[]) => Promise<ScriptReply | number>;

export class RefundHolds implements RefundHoldsPort {
  private readonly reserveCmd: Command;
  private readonly releaseCmd: Command;

  constructor(
    private readonly redis: CardRedis,
    private readonly keys: RedisKeys,
  ) {
    this.reserveCmd = this.define('refund-reserve');
    this.releaseCmd = this.define('refund-release');
  }

  refund(req: HoldRequest & { refundId: string; amountFen: bigint }): Promise<HoldResult> {
    return this.reserve(req, ['refund', req.refundId, req.amountFen.toString()]);
  }

  reversal(req: HoldRequest): Promise<HoldResult> {
    return this.reserve(req, ['reverse', '', '0']);
  }

  async releaseRefund(cardNo: string, paymentId: string, refundId: string): Promise<void> {
    await this.releaseCmd([this.keys.cardRefunds(cardNo, paymentId)], [`r:${refundId}`]);
  }

  async releaseReversal(cardNo: string, paymentId: string): Promise<void> {
    await this.releaseCmd([this.keys.cardRefunds(cardNo, paymentId)], ['v']);
  }

  private async reserve(req: HoldRequest, head: string[]): Promise<HoldResult> {
    const reply = (await this.reserveCmd(
      [this.keys.cardRefunds(req.cardNo, req.paymentId)],
      [...head, req.paymentFen.toString(), req.ledgerRefundedFen.toString(), req.ledgerReversedFen.toString(), refundReserveTtlSeconds],
    )) as ScriptReply;
    const tag = String(reply[0]);
    if (tag === 'OK' || tag === 'HELD') return { kind: 'held', amountFen: BigInt(String(reply[1])), fresh: tag === 'OK' };
    if (tag === 'REVERSED') return { kind: 'reversed' };
    if (tag === 'OVER') return { kind: 'over' };
    if (tag === 'NONE') return { kind: 'none' };
    throw new Error(`refund-reserve answered ${tag}`);
  }

  /** ioredis fixes a command's key count: these one-key scripts are defined here, beside their use. */
  private define(file: 'refund-reserve' | 'refund-release'): Command {
    const name = `cc_${file.replace(/-/g, '_')}`;
    const commands = this.redis as unknown as Record<string, ((...a: (string | number)[]) => Promise<ScriptReply | number>) | undefined>;
    if (typeof commands[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys: 1, lua: loadLua(file) });
    return (keys, args) => commands[name]!.call(this.redis, ...keys, ...args);
  }
}
