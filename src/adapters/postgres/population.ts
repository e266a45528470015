// The population registry's tables (migrations/0015_registry.sql): departments, people, their
// current fields and append-only change history, the append-only audit log, and the registry
// columns of cards. Values arrive already encoded (encrypted fields sealed) by the use cases.
import type { Pool, PoolClient } from './db.js';
import { withTransaction } from './db.js';

export interface DepartmentRow {
  departmentId: string;
  name: string;
  writes: string[];
  reads: string[];
}

export interface PersonRow {
  personId: bigint;
  idType: 'id_card' | 'passport';
  idEnc: Buffer;
  idMasked: string;
  citizenId: bigint | null;
  /** Stored (encoded) values by field. */
  fields: Map<string, unknown>;
}

export interface StoredChange {
  changeId: bigint;
  personId: bigint;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  departmentId: string;
  reason: string;
  sourceDocument: string | null;
  changedAt: Date;
}

export interface AuditEntry {
  at: Date;
  departmentId: string;
  action: 'create' | 'read' | 'lookup' | 'write' | 'changes' | 'stats';
  personId: bigint | null;
  fields: string[];
  outcome: 'ok' | 'forbidden' | 'not_found' | 'invalid';
  detail?: string | null;
}

export interface FieldWrite {
  field: string;
  /** Encoded value (JSON-ready). */
  value: unknown;
}

export interface ChangeContext {
  departmentId: string;
  reason: string;
  sourceDocument: string | null;
  at: Date;
}

const personColumns = `p.person_id, p.id_type, p.id_number_enc, p.id_number_masked, p.citizen_id,
  coalesce((SELECT jsonb_object_agg(f.field, f.value) FROM person_fields f WHERE f.person_id = p.person_id), '{}'::jsonb) AS fields`;

interface PersonDbRow {
  person_id: bigint;
  id_type: PersonRow['idType'];
  id_number_enc: Buffer;
  id_number_masked: string;
  citizen_id: bigint | null;
  fields: Record<string, unknown>;
}

function personOf(row: PersonDbRow): PersonRow {
  return {
    personId: row.person_id,
    idType: row.id_type,
    idEnc: row.id_number_enc,
    idMasked: row.id_number_masked,
    citizenId: row.citizen_id,
    fields: new Map(Object.entries(row.fields)),
  };
}

export class PgPopulation {
  constructor(readonly pool: Pool) {}

  async insertDepartment(d: DepartmentRow, apiKeyHash: Buffer): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO departments (department_id, name, writes, reads, api_key_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (department_id) DO NOTHING`,
      [d.departmentId, d.name, d.writes, d.reads, apiKeyHash],
    );
    return r.rowCount === 1;
  }

  /** Fields among `fields` that another department already writes, with that department. */
  async writtenByOthers(fields: readonly string[], departmentId: string): Promise<{ field: string; departmentId: string }[]> {
    const r = await this.pool.query<{ field: string; department_id: string }>(
      `SELECT f AS field, d.department_id FROM departments d, unnest(d.writes) AS f WHERE f = ANY($1::text[]) AND d.department_id <> $2 ORDER BY f`,
      [fields, departmentId],
    );
    return r.rows.map((row) => ({ field: row.field, departmentId: row.department_id }));
  }

  async departmentByKeyHash(hash: Buffer): Promise<DepartmentRow | null> {
    const r = await this.pool.query<{ department_id: string; name: string; writes: string[]; reads: string[] }>(
      `SELECT department_id, name, writes, reads FROM departments WHERE api_key_hash = $1`,
      [hash],
    );
    const row = r.rows[0];
    return row ? { departmentId: row.department_id, name: row.name, writes: row.writes, reads: row.reads } : null;
  }

  async citizenByIdHmac(hmac: Buffer): Promise<bigint | null> {
    const r = await this.pool.query<{ citizen_id: bigint }>(`SELECT citizen_id FROM citizens WHERE id_number_hmac = $1`, [hmac]);
    return r.rows[0]?.citizen_id ?? null;
  }

  async citizenExists(citizenId: bigint): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM citizens WHERE citizen_id = $1`, [citizenId]);
    return r.rowCount === 1;
  }

  /** Creates a person with its first field values (each one a change in the history); null when the id document exists. */
  async insertPerson(
    p: { idType: PersonRow['idType']; idHmac: Buffer; idEnc: Buffer; idMasked: string; citizenId: bigint | null },
    fields: readonly FieldWrite[],
    ctx: ChangeContext,
    audit: (personId: bigint) => AuditEntry,
  ): Promise<bigint | null> {
    return withTransaction(this.pool, async (client) => {
      const r = await client.query<{ person_id: bigint }>(
        `INSERT INTO people (id_type, id_number_hmac, id_number_enc, id_number_masked, citizen_id, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING person_id`,
        [p.idType, p.idHmac, p.idEnc, p.idMasked, p.citizenId, ctx.departmentId, ctx.at],
      );
      const personId = r.rows[0]?.person_id;
      if (personId === undefined) return null;
      await writeFields(client, personId, fields.map((f) => ({ ...f, old: null })), ctx);
      await insertAudit(client, audit(personId));
      return personId;
    });
  }

  async personIdByHmac(idType: string, hmac: Buffer): Promise<bigint | null> {
    const r = await this.pool.query<{ person_id: bigint }>(`SELECT person_id FROM people WHERE id_type = $1 AND id_number_hmac = $2`, [idType, hmac]);
    return r.rows[0]?.person_id ?? null;
  }

  async person(personId: bigint): Promise<PersonRow | null> {
    const r = await this.pool.query<PersonDbRow>(`SELECT ${personColumns} FROM people p WHERE p.person_id = $1`, [personId]);
    return r.rows[0] ? personOf(r.rows[0]) : null;
  }

  async personOfCitizen(citizenId: bigint): Promise<PersonRow | null> {
    const r = await this.pool.query<PersonDbRow>(`SELECT ${personColumns} FROM people p WHERE p.citizen_id = $1`, [citizenId]);
    return r.rows[0] ? personOf(r.rows[0]) : null;
  }

  /**
   * Applies changes to a person under its row lock: `decide` sees the current encoded values and
   * returns the writes that differ; each becomes a history row and the field's current value.
   * Returns null when the person does not exist.
   */
  async change(
    personId: bigint,
    ctx: ChangeContext,
    decide: (current: Map<string, unknown>) => FieldWrite[],
    audit: (changed: string[]) => AuditEntry,
  ): Promise<{ person: PersonRow; changed: string[] } | null> {
    return withTransaction(this.pool, async (client) => {
      const locked = await client.query(`SELECT 1 FROM people WHERE person_id = $1 FOR UPDATE`, [personId]);
      if (locked.rowCount !== 1) return null;
      const before = await client.query<PersonDbRow>(`SELECT ${personColumns} FROM people p WHERE p.person_id = $1`, [personId]);
      const person = personOf(before.rows[0]!);
      const writes = decide(person.fields);
      await writeFields(client, personId, writes.map((w) => ({ ...w, old: person.fields.get(w.field) ?? null })), ctx);
      for (const w of writes) person.fields.set(w.field, w.value);
      const changed = writes.map((w) => w.field);
      // The audit row commits with the change, or neither does.
      await insertAudit(client, audit(changed));
      return { person, changed };
    });
  }

  async history(personId: bigint): Promise<StoredChange[]> {
    const r = await this.pool.query<ChangeDbRow>(`SELECT * FROM person_changes WHERE person_id = $1 ORDER BY change_id`, [personId]);
    return r.rows.map(changeOf);
  }

  /** Changes after `sinceId` of the given fields, oldest first. */
  async changesSince(sinceId: bigint, fields: readonly string[], limit: number): Promise<StoredChange[]> {
    const r = await this.pool.query<ChangeDbRow>(
      `SELECT * FROM person_changes WHERE change_id > $1 AND field = ANY($2::text[]) ORDER BY change_id LIMIT $3`,
      [sinceId, fields, limit],
    );
    return r.rows.map(changeOf);
  }

  async audit(entry: AuditEntry): Promise<void> {
    await insertAudit(this.pool, entry);
  }

  async auditLog(filter: { personId?: bigint; departmentId?: string; afterId: bigint; limit: number }): Promise<(AuditEntry & { auditId: bigint })[]> {
    const r = await this.pool.query<{ audit_id: bigint; at: Date; department_id: string; action: AuditEntry['action']; person_id: bigint | null; fields: string[]; outcome: AuditEntry['outcome']; detail: string | null }>(
      `SELECT * FROM registry_audit
        WHERE audit_id > $1 AND ($2::bigint IS NULL OR person_id = $2) AND ($3::text IS NULL OR department_id = $3)
        ORDER BY audit_id LIMIT $4`,
      [filter.afterId, filter.personId ?? null, filter.departmentId ?? null, filter.limit],
    );
    return r.rows.map((row) => ({ auditId: row.audit_id, at: row.at, departmentId: row.department_id, action: row.action, personId: row.person_id, fields: row.fields, outcome: row.outcome, detail: row.detail }));
  }

  async cardsOfCitizen(citizenId: bigint): Promise<{ cardNo: string; status: string; cardType: string }[]> {
    const r = await this.pool.query<{ card_no: string; status: string; card_type: string }>(`SELECT card_no, status, card_type FROM cards WHERE citizen_id = $1 ORDER BY card_no`, [citizenId]);
    return r.rows.map((row) => ({ cardNo: row.card_no, status: row.status, cardType: row.card_type }));
  }

  async cardCitizen(cardNo: string): Promise<bigint | null> {
    const r = await this.pool.query<{ citizen_id: bigint }>(`SELECT citizen_id FROM cards WHERE card_no = $1`, [cardNo]);
    return r.rows[0]?.citizen_id ?? null;
  }

  async setCardRegistryType(cardNo: string, cardType: string | null, until: string | null): Promise<void> {
    await this.pool.query(`UPDATE cards SET registry_type = $2, registry_type_until = $3 WHERE card_no = $1`, [cardNo, cardType, until]);
  }

  async setCardStatusReason(cardNo: string, reason: string): Promise<void> {
    await this.pool.query(`UPDATE cards SET status_reason = $2 WHERE card_no = $1`, [cardNo, reason]);
  }

  async setCitizenInsured(citizenId: bigint, insured: boolean): Promise<void> {
    await this.pool.query(`UPDATE citizens SET insured = $2 WHERE citizen_id = $1`, [citizenId, insured]);
  }
}

interface ChangeDbRow {
  change_id: bigint;
  person_id: bigint;
  field: string;
  old_value: unknown;
  new_value: unknown;
  department_id: string;
  reason: string;
  source_document: string | null;
  changed_at: Date;
}

function changeOf(row: ChangeDbRow): StoredChange {
  return {
    changeId: row.change_id,
    personId: row.person_id,
    field: row.field,
    oldValue: row.old_value,
    newValue: row.new_value,
    departmentId: row.department_id,
    reason: row.reason,
    sourceDocument: row.source_document,
    changedAt: row.changed_at,
  };
}

async function insertAudit(client: PoolClient | Pool, entry: AuditEntry): Promise<void> {
  await client.query(
    `INSERT INTO registry_audit (at, department_id, action, person_id, fields, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [entry.at, entry.departmentId, entry.action, entry.personId, entry.fields, entry.outcome, entry.detail ?? null],
  );
}

async function writeFields(client: PoolClient, personId: bigint, writes: readonly (FieldWrite & { old: unknown })[], ctx: ChangeContext): Promise<void> {
  for (const w of writes) {
    const c = await client.query<{ change_id: bigint }>(
      `INSERT INTO person_changes (person_id, field, old_value, new_value, department_id, reason, source_document, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING change_id`,
      [personId, w.field, w.old === null ? null : JSON.stringify(w.old), JSON.stringify(w.value), ctx.departmentId, ctx.reason, ctx.sourceDocument, ctx.at],
    );
    await client.query(
      `INSERT INTO person_fields (person_id, field, value, change_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (person_id, field) DO UPDATE SET value = EXCLUDED.value, change_id = EXCLUDED.change_id`,
      [personId, w.field, JSON.stringify(w.value), c.rows[0]!.change_id],
    );
  }
}
