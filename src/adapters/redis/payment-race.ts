// Who came first, a payment or its reversal, shared by every process through Redis: a reversal
// that finds no payment is remembered, and the payment arriving after it is declined (12). Scoped
// to the terminal (DESIGN §11), so that another terminal cannot block a payment by its id.
import { loadLua, type CardRedis } from './client.js';
import type { RedisKeys } from './keys.js';
import { earlyReversalTtlSeconds, paymentRaceTtlSeconds } from '../../domain/payment-policy.js';
import type { PaymentRacePort, ReversalClaim } from '../../app/ports/money.js';

export type { ReversalClaim } from '../../app/ports/money.js';

type Command = (key: string, claim: string, ttlSeconds: number) => Promise<string>;

export class PaymentRace implements PaymentRacePort {
  private readonly claimCmd: Command;

  constructor(
    private readonly redis: CardRedis,
    private readonly keys: RedisKeys,
  ) {
    const commands = redis as unknown as Record<string, Command | undefined>;
    if (typeof commands.cc_payment_race !== 'function') redis.defineCommand('cc_payment_race', { numberOfKeys: 1, lua: loadLua('payment-race') });
    this.claimCmd = (key, claim, ttl) => commands.cc_payment_race!.call(this.redis, key, claim, ttl);
  }

  /** Before a payment moves money: false when its reversal came first (the payment must be declined). */
  async paymentMayGo(terminalId: string, paymentId: string, cardNo: string): Promise<boolean> {
    const first = await this.claimCmd(this.keys.paymentRace(terminalId, paymentId), `p:${cardNo}`, paymentRaceTtlSeconds);
    return first !== 'r';
  }

  /** A reversal that found no committed payment: remembered if it came first, else the payment's card. */
  async reversalFirst(terminalId: string, paymentId: string): Promise<ReversalClaim> {
    const first = await this.claimCmd(this.keys.paymentRace(terminalId, paymentId), 'r', earlyReversalTtlSeconds);
    if (first === '' || first === 'r') return { kind: 'remembered' };
    return { kind: 'payment-started', cardNo: first.slice(2) };
  }

  /** Whether the payment (its scoped id `<terminal>/<id>`) was decided as a decline, so nothing moved. */
  async paymentDeclined(cardNo: string, scopedPaymentId: string): Promise<boolean> {
    const raw = await this.redis.get(this.keys.cardOp(cardNo, 'payment', scopedPaymentId));
    return raw !== null && (JSON.parse(raw) as { s?: string }).s === 'd';
  }
}
