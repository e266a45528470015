// Registry tables: operators, merchants, terminals, citizens and cards (everything that is not
// the journal). Money never moves here; balances change only through the ledger writer.
import { withTransaction, type Pool, type PoolClient } from './db.js';
import type { CardRow, MerchantRow, NewCard, OperatorRow, RegistryStore, TerminalRow, Upsert } from '../../app/ports/registry.js';

export type { CardRow, MerchantRow, NewCard, OperatorRow, TerminalRow, Upsert } from '../../app/ports/registry.js';

export class Registry implements RegistryStore {
  constructor(readonly pool: Pool) {}

  /** Inserts, or reports whether the existing row has the same content (idempotent admin calls). */
  async upsertOperator(op: OperatorRow): Promise<Upsert> {
    const inserted = await this.pool.query(
      `INSERT INTO operators (operator_id, name, mode, commission_rate) VALUES ($1, $2, $3, $4)
       ON CONFLICT (operator_id) DO NOTHING`,
      [op.operatorId, op.name, op.mode, op.commissionRate],
    );
    if (inserted.rowCount === 1) {
      await this.pool.query(`INSERT INTO accounts (kind, owner_id) VALUES ('receivable', $1) ON CONFLICT DO NOTHING`, [op.operatorId]);
      return 'created';
    }
    const existing = await this.pool.query(`SELECT 1 FROM operators WHERE operator_id = $1 AND name = $2 AND mode = $3`, [op.operatorId, op.name, op.mode]);
    return existing.rowCount === 1 ? 'same' : 'different';
  }

  async upsertMerchant(m: MerchantRow): Promise<Upsert> {
    const inserted = await this.pool.query(
      `INSERT INTO merchants (merchant_id, name, category, mcc, commission_rate) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (merchant_id) DO NOTHING`,
      [m.merchantId, m.name, m.category, m.mcc, m.commissionRate],
    );
    if (inserted.rowCount === 1) {
      await this.pool.query(`INSERT INTO accounts (kind, owner_id) VALUES ('payable', $1) ON CONFLICT DO NOTHING`, [m.merchantId]);
      return 'created';
    }
    const existing = await this.pool.query(
      `SELECT 1 FROM merchants WHERE merchant_id = $1 AND name = $2 AND category = $3 AND mcc = $4`,
      [m.merchantId, m.name, m.category, m.mcc],
    );
    return existing.rowCount === 1 ? 'same' : 'different';
  }

  async operator(operatorId: string): Promise<OperatorRow | null> {
    const r = await this.pool.query(`SELECT operator_id, name, mode, commission_rate::text AS rate FROM operators WHERE operator_id = $1`, [operatorId]);
    const row = r.rows[0];
    return row ? { operatorId: row.operator_id, name: row.name, mode: row.mode, commissionRate: row.rate } : null;
  }

  async merchant(merchantId: string): Promise<MerchantRow | null> {
    const r = await this.pool.query(`SELECT merchant_id, name, category, mcc, commission_rate::text AS rate FROM merchants WHERE merchant_id = $1`, [merchantId]);
    const row = r.rows[0];
    return row ? { merchantId: row.merchant_id, name: row.name, category: row.category, mcc: row.mcc, commissionRate: row.rate } : null;
  }

  async insertTerminal(t: Omit<TerminalRow, 'status' | 'merchantCategory'>, apiKeyHash: Buffer): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO terminals (terminal_id, kind, operator_id, merchant_id, route_id, station_id, api_key_hash, keys_enc)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (terminal_id) DO NOTHING`,
      [t.terminalId, t.kind, t.operatorId, t.merchantId, t.routeId, t.stationId, apiKeyHash, t.keysEnc],
    );
    return r.rowCount === 1;
  }

  private static terminalSelect = `SELECT t.terminal_id, t.kind, t.operator_id, t.merchant_id, t.route_id, t.station_id, t.status, t.keys_enc,
                                          m.category AS merchant_category
                                     FROM terminals t LEFT JOIN merchants m USING (merchant_id)`;

  async terminalByKeyHash(hash: Buffer): Promise<TerminalRow | null> {
    const r = await this.pool.query(`${Registry.terminalSelect} WHERE t.api_key_hash = $1`, [hash]);
    return r.rows[0] ? toTerminal(r.rows[0]) : null;
  }

  async terminal(terminalId: string): Promise<TerminalRow | null> {
    const r = await this.pool.query(`${Registry.terminalSelect} WHERE t.terminal_id = $1`, [terminalId]);
    return r.rows[0] ? toTerminal(r.rows[0]) : null;
  }

  async updateTerminalKeys(terminalId: string, keysEnc: Buffer): Promise<void> {
    await this.pool.query(`UPDATE terminals SET keys_enc = $2 WHERE terminal_id = $1`, [terminalId, keysEnc]);
  }

  async insertCitizen(c: { name: string; idHmac: Buffer; idEnc: Buffer; idMasked: string; insured: boolean }): Promise<{ citizenId: bigint; created: boolean }> {
    const r = await this.pool.query<{ citizen_id: bigint }>(
      `INSERT INTO citizens (name, id_number_hmac, id_number_enc, id_number_masked, insured) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id_number_hmac) DO NOTHING RETURNING citizen_id`,
      [c.name, c.idHmac, c.idEnc, c.idMasked, c.insured],
    );
    if (r.rows[0]) return { citizenId: r.rows[0].citizen_id, created: true };
    const existing = await this.pool.query<{ citizen_id: bigint }>(`SELECT citizen_id FROM citizens WHERE id_number_hmac = $1`, [c.idHmac]);
    return { citizenId: existing.rows[0]!.citizen_id, created: false };
  }

  async citizen(citizenId: bigint): Promise<{ citizenId: bigint; name: string; idMasked: string; insured: boolean } | null> {
    const r = await this.pool.query(`SELECT citizen_id, name, id_number_masked, insured FROM citizens WHERE citizen_id = $1`, [citizenId]);
    const row = r.rows[0];
    return row ? { citizenId: row.citizen_id, name: row.name, idMasked: row.id_number_masked, insured: row.insured } : null;
  }

  async nextCardSerial(): Promise<bigint> {
    const r = await this.pool.query<{ s: bigint }>(`SELECT nextval('card_serial') AS s`);
    return r.rows[0]!.s;
  }

  /** A new card and its purse and medical accounts, in one transaction. */
  async insertCard(c: NewCard): Promise<void> {
    await withTransaction(this.pool, (client) => insertCardRows(client, c));
  }

  /** The replacement of a card: the new card, its accounts and the old card's `replaced_by`, in one transaction. */
  async insertReplacement(oldCardNo: string, c: NewCard): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await insertCardRows(client, c);
      await client.query(`UPDATE cards SET replaced_by = $2 WHERE card_no = $1`, [oldCardNo, c.cardNo]);
    });
  }

  async card(cardNo: string): Promise<CardRow | null> {
    const r = await this.pool.query(
      `SELECT card_no, citizen_id, card_type, status, expires_on, pin_hash, pin_failures, pin_locked_until, replaced_by FROM cards WHERE card_no = $1`,
      [cardNo],
    );
    const row = r.rows[0];
    return row
      ? {
          cardNo: row.card_no,
          citizenId: row.citizen_id,
          cardType: row.card_type,
          status: row.status,
          expiresOn: row.expires_on,
          pinHash: row.pin_hash,
          pinFailures: row.pin_failures,
          pinLockedUntil: row.pin_locked_until,
          replacedBy: row.replaced_by,
        }
      : null;
  }

  async setCardStatus(cardNo: string, status: CardRow['status']): Promise<boolean> {
    const r = await this.pool.query(`UPDATE cards SET status = $2, status_changed_at = now() WHERE card_no = $1`, [cardNo, status]);
    return r.rowCount === 1;
  }

  async setPinState(cardNo: string, failures: number, lockedUntil: Date | null): Promise<void> {
    await this.pool.query(`UPDATE cards SET pin_failures = $2, pin_locked_until = $3 WHERE card_no = $1`, [cardNo, failures, lockedUntil]);
  }

  async balances(cardNo: string): Promise<{ purse: bigint; medical: bigint }> {
    const r = await this.pool.query<{ kind: string; balance: bigint }>(
      `SELECT kind, balance FROM accounts WHERE owner_id = $1 AND kind IN ('purse', 'medical')`,
      [cardNo],
    );
    let purse = 0n;
    let medical = 0n;
    for (const row of r.rows) {
      if (row.kind === 'purse') purse = row.balance;
      else medical = row.balance;
    }
    return { purse, medical };
  }
}

function toTerminal(row: Record<string, unknown>): TerminalRow {
  return {
    terminalId: row.terminal_id as string,
    kind: row.kind as TerminalRow['kind'],
    operatorId: row.operator_id as string | null,
    merchantId: row.merchant_id as string | null,
    routeId: row.route_id as string | null,
    stationId: row.station_id as string | null,
    status: row.status as TerminalRow['status'],
    keysEnc: row.keys_enc as Buffer,
    merchantCategory: row.merchant_category as TerminalRow['merchantCategory'],
  };
}

async function insertCardRows(client: PoolClient, c: NewCard): Promise<void> {
  await client.query(
    `INSERT INTO cards (card_no, citizen_id, card_type, expires_on, pin_hash) VALUES ($1, $2, $3, $4, $5)`,
    [c.cardNo, c.citizenId, c.cardType, c.expiresOn, c.pinHash],
  );
  await client.query(`INSERT INTO accounts (kind, owner_id) VALUES ('purse', $1), ('medical', $1) ON CONFLICT DO NOTHING`, [c.cardNo]);
}
