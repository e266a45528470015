// The demo cards' seeding: citizens, cards, the card serial and the cards' accounts written in one
// transaction on one connection, so that a failure part-way leaves nothing behind.
import { withTransaction, type Pool } from './db.js';
import type { DemoCard, DemoCitizen, DemoSeedStore } from '../../app/ports/ops.js';

/** Serialises seedings of processes starting together on one database (a transaction-level lock). */
const seedLockKey = 0x5eed_ca4e;

export class PgDemoSeed implements DemoSeedStore {
  constructor(private readonly pool: Pool) {}

  async hasCards(): Promise<boolean> {
    const r = await this.pool.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM cards) AS present`);
    return r.rows[0]!.present;
  }

  async seedCards(citizens: DemoCitizen[], cards: DemoCard[], expiresOn: string, pinHash: string): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock($1)`, [seedLockKey]);
      const present = await client.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM cards) AS present`);
      if (present.rows[0]!.present) return 0;
      const inserted = await client.query<{ citizen_id: bigint }>(
        `INSERT INTO citizens (name, id_number_hmac, id_number_enc, id_number_masked, insured)
         SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::bool[]) ON CONFLICT DO NOTHING RETURNING citizen_id`,
        [citizens.map((c) => c.name), citizens.map((c) => c.idHmac), citizens.map((c) => c.idEnc), citizens.map((c) => c.idMasked), citizens.map((c) => c.insured)],
      );
      const issued = inserted.rows.map((row, i) => ({ citizenId: row.citizen_id.toString(), ...cards[i]! }));
      if (issued.length === 0) return 0;
      await client.query(`SELECT setval('card_serial', $1)`, [issued.length]);
      await client.query(
        `INSERT INTO cards (card_no, citizen_id, card_type, expires_on, pin_hash)
         SELECT c, i::bigint, t, $4::date, $5 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c, i, t)`,
        [issued.map((c) => c.cardNo), issued.map((c) => c.citizenId), issued.map((c) => c.cardType), expiresOn, pinHash],
      );
      await client.query(
        `INSERT INTO accounts (kind, owner_id) SELECT k, c FROM unnest($1::text[]) AS c CROSS JOIN (VALUES ('purse'), ('medical')) AS v(k) ON CONFLICT DO NOTHING`,
        [issued.map((c) => c.cardNo)],
      );
      return issued.length;
    });
  }
}
