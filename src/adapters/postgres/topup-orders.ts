// Top-up orders in PostgreSQL (migration 0012): the claim from 'pending' is one UPDATE, so exactly
// one confirmer wins however many API processes race; the open-order limit is serialized per card.
import { withTransaction, type Pool } from './db.js';
import type { OrderChannel, StoredStatus, TopupOrder, TopupOrderStore } from '../../app/topup-orders.js';

interface Row {
  order_id: string;
  card_no: string;
  amount_fen: bigint;
  status: StoredStatus;
  created_at: Date;
  expires_at: Date;
  channel: OrderChannel | null;
  confirmed_by: string | null;
  code: string | null;
  transaction_id: string | null;
}

function fromRow(r: Row): TopupOrder {
  return {
    orderId: r.order_id,
    cardNo: r.card_no,
    amountFen: r.amount_fen,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    channel: r.channel,
    confirmedBy: r.confirmed_by,
    code: r.code,
    transactionId: r.transaction_id,
  };
}

export class PgTopupOrderStore implements TopupOrderStore {
  constructor(private readonly pool: Pool) {}

  async create(order: TopupOrder, openMax: number, now: Date): Promise<TopupOrder | null> {
    return withTransaction(this.pool, async (client) => {
      // One card's creations run one at a time, so the count below cannot be raced past openMax.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('topup-order:' || $1))`, [order.cardNo]);
      const open = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM topup_orders WHERE card_no = $1 AND status = 'pending' AND expires_at > $2`, [order.cardNo, now]);
      if (open.rows[0]!.n >= openMax) return null;
      const r = await client.query<Row>(
        `INSERT INTO topup_orders (order_id, card_no, amount_fen, status, created_at, expires_at) VALUES ($1, $2, $3, 'pending', $4, $5) RETURNING *`,
        [order.orderId, order.cardNo, order.amountFen, order.createdAt, order.expiresAt],
      );
      return fromRow(r.rows[0]!);
    });
  }

  async get(orderId: string): Promise<TopupOrder | null> {
    const r = await this.pool.query<Row>(`SELECT * FROM topup_orders WHERE order_id = $1`, [orderId]);
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async cancel(orderId: string, cardNo: string): Promise<TopupOrder | null> {
    await this.pool.query(`UPDATE topup_orders SET status = 'cancelled' WHERE order_id = $1 AND card_no = $2 AND status = 'pending'`, [orderId, cardNo]);
    const order = await this.get(orderId);
    return order && order.cardNo === cardNo ? order : null;
  }

  async claim(orderId: string, amountFen: bigint, channel: OrderChannel, confirmedBy: string, now: Date): Promise<TopupOrder | null> {
    const r = await this.pool.query<Row>(
      `UPDATE topup_orders SET status = 'confirming', channel = $3, confirmed_by = $4, decided_at = $5
       WHERE order_id = $1 AND amount_fen = $2 AND status = 'pending' AND expires_at > $5 RETURNING *`,
      [orderId, amountFen, channel, confirmedBy, now],
    );
    return r.rows[0] ? fromRow(r.rows[0]) : null;
  }

  async decide(orderId: string, status: 'confirmed' | 'declined', code: string, transactionId: string | null, now: Date): Promise<void> {
    await this.pool.query(`UPDATE topup_orders SET status = $2, code = $3, transaction_id = $4, decided_at = $5 WHERE order_id = $1 AND status IN ('confirming', $2)`, [
      orderId,
      status,
      code,
      transactionId,
      now,
    ]);
  }
}
