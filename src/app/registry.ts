// Population registry use cases (docs/registry.md): departments as API clients, people created and
// changed field by field by the department that owns each field, reads limited to a department's
// read rights, the changes feed between departments, and the audit log of every access.
import { randomBytes } from 'node:crypto';
import { fieldNames, fieldValueError, isFieldName, readRights, type FieldName, type FieldValue } from '../domain/registry/fields.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { maskIdNumber, sha256, type Secrets } from '../platform/secrets.js';
import type { AuditEntry, DepartmentRow, FieldWrite, PersonRow, PgPopulation, StoredChange } from '../adapters/postgres/population.js';
import { FieldCodec, sameValue, visibleFields } from './registry-values.js';

export type RegistryCaller = { type: 'admin' } | { type: 'department'; department: DepartmentRow };

export type Refusal = { ok: false; status: 400 | 403 | 404 | 409; detail: string; field?: string };
export type Result<T> = { ok: true; value: T } | Refusal;

export const changesPageMax = 500;
export const auditPageMax = 1000;
export const idNumberLengthMax = 32;
export const reasonLengthMax = 500;

export type IdType = 'id_card' | 'passport';

export interface PersonView {
  personId: string;
  idType: IdType;
  /** Masked unless the department holds the `idNumber` read right. */
  idNumber: string;
  citizenId: string | null;
  fields: Record<string, FieldValue>;
}

export interface ChangeView {
  changeId: string;
  personId: string;
  field: string;
  oldValue: FieldValue;
  newValue: FieldValue;
  departmentId: string;
  reason: string;
  sourceDocument: string | null;
  changedAt: string;
}

/** Called after a person's fields changed (the card effects: concession, insured, blocking). */
export type AfterChange = (person: PersonRow, values: Map<string, FieldValue>, changed: readonly string[]) => Promise<void>;

export interface RegistryDeps {
  population: PgPopulation;
  secrets: Secrets;
  clock: Clock;
  log: Logger;
  afterChange?: AfterChange;
}

const forbidden = (field: string, what: 'write' | 'read'): Refusal => ({ ok: false, status: 403, field, detail: `the department may not ${what} field ${field}` });
const callerId = (caller: RegistryCaller): string => (caller.type === 'admin' ? 'admin' : caller.department.departmentId);

function normaliseIdNumber(idType: IdType, idNumber: string): string {
  // Id card numbers end in a check character written x or X; passports are upper case.
  return idType === 'id_card' || idType === 'passport' ? idNumber.trim().toUpperCase() : idNumber;
}

export class RegistryService {
  readonly codec: FieldCodec;

  constructor(private readonly deps: RegistryDeps) {
    this.codec = new FieldCodec(deps.secrets);
  }

  async createDepartment(d: { departmentId: string; name: string; writes: string[]; reads: string[] }): Promise<Result<{ departmentId: string; apiKey: string }>> {
    const unknownWrite = d.writes.find((f) => !isFieldName(f));
    if (unknownWrite) return { ok: false, status: 400, field: unknownWrite, detail: `unknown field ${unknownWrite}` };
    const unknownRead = d.reads.find((f) => !readRights.includes(f));
    if (unknownRead) return { ok: false, status: 400, field: unknownRead, detail: `unknown read right ${unknownRead}` };
    // Each field is owned by one department: the first to claim it.
    const taken = await this.deps.population.writtenByOthers(d.writes, d.departmentId);
    if (taken[0]) return { ok: false, status: 409, field: taken[0].field, detail: `field ${taken[0].field} is owned by department ${taken[0].departmentId}` };
    const apiKey = `ccd_${randomBytes(24).toString('base64url')}`;
    const created = await this.deps.population.insertDepartment({ departmentId: d.departmentId, name: d.name, writes: [...new Set(d.writes)], reads: [...new Set(d.reads)] }, sha256(apiKey));
    if (!created) return { ok: false, status: 409, detail: `department ${d.departmentId} exists` };
    return { ok: true, value: { departmentId: d.departmentId, apiKey } };
  }

  async departmentByApiKey(apiKey: string): Promise<DepartmentRow | null> {
    return this.deps.population.departmentByKeyHash(sha256(apiKey));
  }

  /**
   * A new person (admin, or a department that writes `name`: the owner of the basic tier). The
   * first values must be the caller's to write. The same id document again answers its person.
   */
  async createPerson(
    caller: RegistryCaller,
    req: { idType: IdType; idNumber: string; citizenId?: bigint | undefined; fields: Record<string, unknown>; reason: string; sourceDocument?: string | undefined },
  ): Promise<Result<{ personId: string; created: boolean; citizenId: string | null }>> {
    const audit = (outcome: AuditEntry['outcome'], personId: bigint | null, detail?: string) =>
      this.audit({ departmentId: callerId(caller), action: 'create', personId, fields: Object.keys(req.fields), outcome, detail: detail ?? null });
    if (caller.type === 'department' && !caller.department.writes.includes('name')) {
      await audit('forbidden', null);
      return forbidden('name', 'write');
    }
    const checked = this.checkWrites(caller, req.fields);
    if (!checked.ok) {
      await audit(checked.status === 403 ? 'forbidden' : 'invalid', null, checked.detail);
      return checked;
    }
    const idNumber = normaliseIdNumber(req.idType, req.idNumber);
    const idHmac = this.deps.secrets.lookupHmac(idNumber);
    let citizenId = req.citizenId ?? null;
    if (citizenId !== null && !(await this.deps.population.citizenExists(citizenId))) return { ok: false, status: 404, detail: `citizen ${citizenId} not found` };
    // A card holder registered with the same id card number is this person.
    if (citizenId === null && req.idType === 'id_card') citizenId = await this.deps.population.citizenByIdHmac(idHmac);
    const writes = checked.value.filter((w) => w.value !== null);
    const ctx = { departmentId: callerId(caller), reason: req.reason, sourceDocument: req.sourceDocument ?? null, at: this.deps.clock.now() };
    let personId: bigint | null;
    try {
      personId = await this.deps.population.insertPerson(
        { idType: req.idType, idHmac, idEnc: this.deps.secrets.encrypt(idNumber), idMasked: maskIdNumber(idNumber), citizenId },
        writes.map((w) => ({ field: w.field, value: this.codec.encode(w.field, w.value) })),
        ctx,
        (id) => ({ at: ctx.at, departmentId: ctx.departmentId, action: 'create', personId: id, fields: Object.keys(req.fields), outcome: 'ok' }),
      );
    } catch (error) {
      // The citizen is linked to another person already (citizen_id is unique).
      if ((error as { code?: string }).code === '23505') return { ok: false, status: 409, detail: `citizen ${citizenId} is linked to another person` };
      throw error;
    }
    if (personId === null) {
      const existing = (await this.deps.population.personIdByHmac(req.idType, idHmac))!;
      await audit('ok', existing, 'existing person');
      const person = await this.deps.population.person(existing);
      return { ok: true, value: { personId: String(existing), created: false, citizenId: person?.citizenId === null || !person ? null : String(person.citizenId) } };
    }
    const person = (await this.deps.population.person(personId))!;
    await this.deps.afterChange?.(person, this.codec.decodeAll(person.fields), writes.map((w) => w.field));
    return { ok: true, value: { personId: String(personId), created: true, citizenId: citizenId === null ? null : String(citizenId) } };
  }

  /** Changes the given fields (each must be the department's to write); unchanged values make no history. */
  async writeFields(caller: RegistryCaller, personId: bigint, req: { fields: Record<string, unknown>; reason: string; sourceDocument?: string | undefined }): Promise<Result<{ personId: string; changed: string[] }>> {
    const fields = Object.keys(req.fields);
    const checked = this.checkWrites(caller, req.fields);
    if (!checked.ok) {
      await this.audit({ departmentId: callerId(caller), action: 'write', personId, fields, outcome: checked.status === 403 ? 'forbidden' : 'invalid', detail: checked.detail });
      return checked;
    }
    const ctx = { departmentId: callerId(caller), reason: req.reason, sourceDocument: req.sourceDocument ?? null, at: this.deps.clock.now() };
    const done = await this.deps.population.change(personId, ctx, (current) => {
      const writes: FieldWrite[] = [];
      for (const w of checked.value) {
        const before = current.has(w.field) ? this.codec.decode(current.get(w.field)) : undefined;
        if (!sameValue(before, w.value)) writes.push({ field: w.field, value: this.codec.encode(w.field, w.value) });
      }
      return writes;
    }, (changed) => ({ at: ctx.at, departmentId: ctx.departmentId, action: 'write', personId, fields: changed, outcome: 'ok', detail: changed.length === fields.length ? null : `unchanged: ${fields.filter((f) => !changed.includes(f)).join(',')}` }));
    if (!done) {
      await this.audit({ departmentId: callerId(caller), action: 'write', personId, fields, outcome: 'not_found' });
      return { ok: false, status: 404, detail: `person ${personId} not found` };
    }
    // Also for values that were already there: the card effects are idempotent, and a retry after
    // a failure of the effects (the change itself committed) must still apply them.
    await this.deps.afterChange?.(done.person, this.codec.decodeAll(done.person.fields), fields);
    return { ok: true, value: { personId: String(personId), changed: done.changed } };
  }

  async readPerson(caller: RegistryCaller, personId: bigint): Promise<Result<PersonView>> {
    const person = await this.deps.population.person(personId);
    return this.view(caller, person, 'read', personId);
  }

  async lookup(caller: RegistryCaller, idType: IdType, idNumber: string): Promise<Result<PersonView>> {
    const personId = await this.deps.population.personIdByHmac(idType, this.deps.secrets.lookupHmac(normaliseIdNumber(idType, idNumber)));
    const person = personId === null ? null : await this.deps.population.person(personId);
    return this.view(caller, person, 'lookup', personId);
  }

  /** Every change of a person's fields the caller may read, oldest first. */
  async history(caller: RegistryCaller, personId: bigint): Promise<Result<{ personId: string; items: ChangeView[] }>> {
    const reads = this.readsOf(caller);
    const person = await this.deps.population.person(personId);
    if (!person) {
      await this.audit({ departmentId: callerId(caller), action: 'read', personId, fields: [], outcome: 'not_found', detail: 'history' });
      return { ok: false, status: 404, detail: `person ${personId} not found` };
    }
    const items = (await this.deps.population.history(personId)).filter((c) => reads.includes(c.field)).map((c) => this.changeView(c));
    await this.audit({ departmentId: callerId(caller), action: 'read', personId, fields: [...new Set(items.map((i) => i.field))], outcome: 'ok', detail: 'history' });
    return { ok: true, value: { personId: String(personId), items } };
  }

  /** The feed between departments: changes of the fields the caller may read, after the cursor. */
  async changes(caller: RegistryCaller, since: bigint, limit: number): Promise<{ items: ChangeView[]; nextCursor: string }> {
    const reads = this.readsOf(caller).filter((f) => isFieldName(f));
    const rows = reads.length === 0 ? [] : await this.deps.population.changesSince(since, reads, Math.min(limit, changesPageMax));
    const last = rows.at(-1);
    await this.audit({ departmentId: callerId(caller), action: 'changes', personId: null, fields: [...new Set(rows.map((r) => r.field))], outcome: 'ok', detail: `since ${since}: ${rows.length} changes` });
    return { items: rows.map((c) => this.changeView(c)), nextCursor: String(last ? last.changeId : since) };
  }

  async auditLog(filter: { personId?: bigint | undefined; departmentId?: string | undefined; cursor: bigint; limit: number }) {
    const rows = await this.deps.population.auditLog({ personId: filter.personId, departmentId: filter.departmentId, afterId: filter.cursor, limit: Math.min(filter.limit, auditPageMax) });
    return {
      items: rows.map((r) => ({ auditId: String(r.auditId), at: r.at.toISOString(), departmentId: r.departmentId, action: r.action, personId: r.personId === null ? null : String(r.personId), fields: r.fields, outcome: r.outcome, detail: r.detail ?? null })),
      nextCursor: String(rows.at(-1)?.auditId ?? filter.cursor),
    };
  }

  async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    await this.deps.population.audit({ ...entry, at: this.deps.clock.now() });
  }

  private readsOf(caller: RegistryCaller): string[] {
    return caller.type === 'admin' ? [] : caller.department.reads;
  }

  private checkWrites(caller: RegistryCaller, fields: Record<string, unknown>): Result<{ field: FieldName; value: FieldValue }[]> {
    const out: { field: FieldName; value: FieldValue }[] = [];
    for (const [field, value] of Object.entries(fields)) {
      if (!isFieldName(field)) return { ok: false, status: 400, field, detail: `unknown field ${field}` };
      if (caller.type === 'department' && !caller.department.writes.includes(field)) return forbidden(field, 'write');
      const error = fieldValueError(field, value);
      if (error) return { ok: false, status: 400, field, detail: `${field} ${error}` };
      out.push({ field, value: value as FieldValue });
    }
    return { ok: true, value: out };
  }

  private async view(caller: RegistryCaller, person: PersonRow | null, action: 'read' | 'lookup', personId: bigint | null): Promise<Result<PersonView>> {
    if (!person) {
      await this.audit({ departmentId: callerId(caller), action, personId, fields: [], outcome: 'not_found' });
      return { ok: false, status: 404, detail: 'person not found' };
    }
    const reads = this.readsOf(caller);
    const fields = visibleFields(this.codec.decodeAll(person.fields), reads);
    const clearId = reads.includes('idNumber');
    await this.audit({ departmentId: callerId(caller), action, personId: person.personId, fields: [...Object.keys(fields), ...(clearId ? ['idNumber'] : [])], outcome: 'ok' });
    return {
      ok: true,
      value: {
        personId: String(person.personId),
        idType: person.idType,
        idNumber: clearId ? this.deps.secrets.decrypt(person.idEnc).toString('utf8') : person.idMasked,
        citizenId: person.citizenId === null ? null : String(person.citizenId),
        fields,
      },
    };
  }

  private changeView(c: StoredChange): ChangeView {
    return {
      changeId: String(c.changeId),
      personId: String(c.personId),
      field: c.field,
      oldValue: c.oldValue === null ? null : this.codec.decode(c.oldValue),
      newValue: this.codec.decode(c.newValue),
      departmentId: c.departmentId,
      reason: c.reason,
      sourceDocument: c.sourceDocument,
      changedAt: c.changedAt.toISOString(),
    };
  }
}

export { fieldNames };
