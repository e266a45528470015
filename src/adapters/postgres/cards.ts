// Card reads for the hot path: the snapshot that the Redis gate is built from on a cache miss.
import type { Pool } from './db.js';
import type { CardSnapshot, CardSource } from '../../app/ports.js';

export class PgCardSource implements CardSource {
  constructor(private readonly pool: Pool) {}

  async snapshot(cardNo: string, businessDate: string): Promise<CardSnapshot | null> {
    const result = await this.pool.query<{
      card_no: string;
      status: CardSnapshot['status'];
      card_type: CardSnapshot['cardType'];
      expires_on: string;
      citizen_id: bigint;
      pin_failures: number;
      type_until: string | null;
      purse: bigint | null;
      medical: bigint | null;
      spent: bigint | null;
    }>(
      `SELECT c.card_no, c.status, coalesce(c.registry_type, c.card_type) AS card_type, c.expires_on, c.citizen_id, c.pin_failures,
              c.registry_type_until::text AS type_until,
              (SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = c.card_no) AS purse,
              (SELECT balance FROM accounts WHERE kind = 'medical' AND owner_id = c.card_no) AS medical,
              (SELECT coalesce(sum(CASE t.op_kind WHEN 'payment' THEN t.amount ELSE -t.amount END), 0)::bigint
                 FROM transfers t
                WHERE t.card_no = c.card_no AND t.business_date = $2 AND t.leg = 0
                  AND t.op_kind IN ('payment', 'payment-reversal')) AS spent
         FROM cards c WHERE c.card_no = $1`,
      [cardNo, businessDate],
    );
    const row = result.rows[0];
    if (!row) return null;
    return {
      cardNo: row.card_no,
      status: row.status,
      cardType: row.card_type,
      expiresOn: row.expires_on,
      citizenId: row.citizen_id,
      purseFen: row.purse ?? 0n,
      medicalFen: row.medical ?? 0n,
      paymentDay: businessDate,
      paymentSpentFen: row.spent && row.spent > 0n ? row.spent : 0n,
      pinFailures: row.pin_failures,
      typeUntil: row.type_until,
    };
  }
}
