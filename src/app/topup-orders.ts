// Pending top-up orders (DESIGN §11): a citizen's JWT only creates, reads and cancels an order;
// money moves when a kiosk terminal (channel kiosk) or the bank back end (admin, bank/app) confirms
// it, through MoneyService.topup, so every guarantee of a top-up holds (idempotent, durable first).
import type { MoneyOutcome } from './authorizer.js';
import type { MoneyService } from './money.js';
import type { TerminalContext } from './terminal.js';
import { isValidCardNo } from '../domain/card-number.js';
import { Code, type ResponseCode } from '../domain/codes.js';
import { terminalMayTopup } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';

/** An order nobody confirmed within this time expires (the kiosk gives the cash back). */
export const topupOrderTtlMs = 10 * 60_000;
/** Open (pending, unexpired) orders one card may hold at once. */
export const openOrdersPerCardMax = 3;
/** The top-up command id of an order: one order, one command, whoever retries it. */
export const orderTopupIdPrefix = 'order-';

export type StoredStatus = 'pending' | 'confirming' | 'confirmed' | 'declined' | 'cancelled';
export type OrderStatus = StoredStatus | 'expired';
export type OrderChannel = 'kiosk' | 'bank' | 'app';

export interface TopupOrder {
  orderId: string;
  cardNo: string;
  amountFen: bigint;
  status: StoredStatus;
  createdAt: Date;
  expiresAt: Date;
  channel: OrderChannel | null;
  confirmedBy: string | null;
  code: string | null;
  transactionId: string | null;
}

/** Port: the orders in PostgreSQL, shared by every API process. */
export interface TopupOrderStore {
  /** Inserts unless the card already holds `openMax` open orders (then null); atomic per card. */
  create(order: TopupOrder, openMax: number, now: Date): Promise<TopupOrder | null>;
  get(orderId: string): Promise<TopupOrder | null>;
  /** pending → cancelled; returns the order as it is afterwards. */
  cancel(orderId: string, cardNo: string): Promise<TopupOrder | null>;
  /** pending, unexpired, same amount → confirming by this confirmer; null when it was not so. */
  claim(orderId: string, amountFen: bigint, channel: OrderChannel, confirmedBy: string, now: Date): Promise<TopupOrder | null>;
  decide(orderId: string, status: 'confirmed' | 'declined', code: string, transactionId: string | null, now: Date): Promise<void>;
}

/** Who confirms: a kiosk terminal, or the back office for a bank or app payment. */
export type Confirmer = { type: 'terminal'; terminal: TerminalContext } | { type: 'admin'; channel: 'bank' | 'app' };

export type CreateResult = { kind: 'created'; order: TopupOrder } | { kind: 'refused'; code: ResponseCode; reason: string };

export type ConfirmResult =
  | { kind: 'not-found' }
  | { kind: 'conflict'; reason: string }
  | { kind: 'refused'; code: ResponseCode; status: OrderStatus }
  | { kind: 'outcome'; order: TopupOrder; outcome: MoneyOutcome };

export interface TopupOrderDeps {
  store: TopupOrderStore;
  money: MoneyService;
  clock: Clock;
  topupAmountMaxFen: bigint;
  newId: () => string;
}

export function statusAt(order: TopupOrder, now: Date): OrderStatus {
  return order.status === 'pending' && order.expiresAt <= now ? 'expired' : order.status;
}

export class TopupOrders {
  constructor(private readonly deps: TopupOrderDeps) {}

  async create(cardNo: string, amountFen: bigint): Promise<CreateResult> {
    if (!isValidCardNo(cardNo)) return { kind: 'refused', code: Code.invalidCard, reason: 'card number not valid' };
    if (amountFen <= 0n || amountFen > this.deps.topupAmountMaxFen) {
      return { kind: 'refused', code: Code.invalidAmount, reason: `amount must be between 1 and ${this.deps.topupAmountMaxFen} fen` };
    }
    const now = this.deps.clock.now();
    const order: TopupOrder = {
      orderId: this.deps.newId(),
      cardNo,
      amountFen,
      status: 'pending',
      createdAt: now,
      expiresAt: new Date(now.getTime() + topupOrderTtlMs),
      channel: null,
      confirmedBy: null,
      code: null,
      transactionId: null,
    };
    const created = await this.deps.store.create(order, openOrdersPerCardMax, now);
    if (!created) return { kind: 'refused', code: Code.exceedsFrequency, reason: `at most ${openOrdersPerCardMax} open top-up orders per card; cancel one or wait for it to expire` };
    return { kind: 'created', order: created };
  }

  /** The citizen's own order only: another card's order is "not found" (ids are not confirmed to exist). */
  async get(cardNo: string, orderId: string): Promise<TopupOrder | null> {
    const order = await this.deps.store.get(orderId);
    return order && order.cardNo === cardNo ? order : null;
  }

  async cancel(cardNo: string, orderId: string): Promise<TopupOrder | null> {
    return this.deps.store.cancel(orderId, cardNo);
  }

  /**
   * Confirms an order once: the first confirmer claims it in PostgreSQL, then the top-up runs as
   * command `order-<orderId>`. The same confirmer retrying (lost answer, crash after the claim)
   * replays that command; any other confirmer gets a conflict and moves nothing.
   */
  async confirm(confirmer: Confirmer, orderId: string, amountFen: bigint): Promise<ConfirmResult> {
    const channel: OrderChannel = confirmer.type === 'terminal' ? 'kiosk' : confirmer.channel;
    const by = confirmer.type === 'terminal' ? confirmer.terminal.terminalId : 'admin';
    if (confirmer.type === 'terminal' && !terminalMayTopup(confirmer.terminal, 'kiosk')) return { kind: 'refused', code: Code.notPermittedTerminal, status: 'pending' };
    const now = this.deps.clock.now();
    let order = await this.deps.store.claim(orderId, amountFen, channel, by, now);
    if (!order) {
      const current = await this.deps.store.get(orderId);
      if (!current) return { kind: 'not-found' };
      if (current.amountFen !== amountFen) return { kind: 'conflict', reason: 'the amount differs from the order' };
      const status = statusAt(current, now);
      if (status === 'cancelled' || status === 'expired') return { kind: 'refused', code: Code.invalidTransaction, status };
      if (current.confirmedBy !== by || current.channel !== channel) return { kind: 'conflict', reason: 'the order was confirmed by another terminal or channel' };
      // Declined once (the kiosk handed the cash back): never tried again.
      if (status === 'declined') return { kind: 'refused', code: (current.code ?? Code.doNotHonour) as ResponseCode, status };
      order = current; // our own earlier claim: replay the same top-up command
    }
    const outcome = await this.deps.money.topup(confirmer.type === 'terminal' ? confirmer.terminal : null, {
      topupId: `${orderTopupIdPrefix}${orderId}`,
      cardNo: order.cardNo,
      amount: order.amountFen,
      channel,
    });
    // 91 (dependency down, overload): nothing moved, the order stays claimed for a retry.
    if (outcome.kind === 'approved') {
      const transactionId = String(outcome.reply.transactionId);
      await this.deps.store.decide(orderId, 'confirmed', Code.approved, transactionId, now);
      order = { ...order, status: 'confirmed', code: Code.approved, transactionId };
    } else if (outcome.kind === 'declined' && outcome.code !== Code.issuerInoperative) {
      await this.deps.store.decide(orderId, 'declined', outcome.code, null, now);
      order = { ...order, status: 'declined', code: outcome.code };
    }
    return { kind: 'outcome', order, outcome };
  }
}
