// Departments as API clients of the population registry, against real PostgreSQL: each writes only
// the fields it owns (403 naming the field), reads only what its rights allow (others absent, the
// id number masked), receives the changes feed, every access is audited append-only, and the
// history keeps every value, encrypted where the field is (DESIGN §14, docs/registry.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin } from '../support/fixtures.js';
import { createPerson, department, personIdNumber, putFields, type Department } from './registry-support.js';

let sys: TestSystem;
let police: Department;
let social: Department;
let civil: Department;

const policeWrites = ['name', 'sex', 'birthDate', 'nationality', 'householdPlace', 'residenceNature', 'lifeStatus', 'address', 'district', 'community', 'residenceSince', 'residenceStatus'];

beforeAll(async () => {
  sys = await createTestSystem();
  police = await department(sys.http, 'public_security', policeWrites, [...policeWrites, 'idNumber']);
  social = await department(sys.http, 'social_security', ['insured', 'insuranceScheme', 'employment'], ['name', 'district', 'insured', 'insuranceScheme']);
  civil = await department(sys.http, 'civil_affairs', ['lowIncomeSupport', 'disabilityCertificate', 'eligibleConcessions'], ['name', 'birthDate', 'disabilityCertificate', 'lowIncomeSupport']);
});
afterAll(async () => sys.destroy());

async function auditOf(query: string): Promise<{ departmentId: string; action: string; personId: string | null; fields: string[]; outcome: string }[]> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/admin/audit?${query}&limit=1000`, headers: admin });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

const basics = { name: 'Li Wei', sex: 'female', birthDate: '1980-05-17', nationality: 'CN', householdPlace: 'Zhengzhou Jinshui', residenceNature: 'registered', address: '8 Huayuan Road, flat 1203', district: 'Jinshui', community: 'Huayuan' };

describe('departments', () => {
  it('gives each field one owner: a second department claiming a field is refused naming it', async () => {
    const res = await sys.http.inject({ method: 'POST', url: '/v1/admin/departments', headers: admin, payload: { departmentId: 'hospital', name: 'hospital', writes: ['insured'], reads: [] } });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('insured');
    const unknown = await sys.http.inject({ method: 'POST', url: '/v1/admin/departments', headers: admin, payload: { departmentId: 'tax', name: 'tax', writes: ['salary'], reads: [] } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().detail).toContain('salary');
  });

  it('is created only with the admin token, and stores only a hash of the key', async () => {
    const noAuth = await sys.http.inject({ method: 'POST', url: '/v1/admin/departments', payload: { departmentId: 'x_dept', name: 'x', writes: [], reads: [] } });
    expect(noAuth.statusCode).toBe(401);
    const asDept = await sys.http.inject({ method: 'POST', url: '/v1/admin/departments', headers: police.headers, payload: { departmentId: 'x_dept', name: 'x', writes: [], reads: [] } });
    expect(asDept.statusCode).toBe(403);
    const stored = await sys.pool.query(`SELECT api_key_hash FROM departments WHERE department_id = 'public_security'`);
    expect(Buffer.from(stored.rows[0].api_key_hash).toString('utf8')).not.toContain(police.apiKey);
    const badKey = await sys.http.inject({ method: 'GET', url: '/v1/registry/changes', headers: { authorization: 'Bearer ccd_not-a-key' } });
    expect(badKey.statusCode).toBe(401);
  });
});

describe('a department writes only its fields', () => {
  it('refuses a field it does not own with 403 naming the field, and changes nothing', async () => {
    const { personId } = await createPerson(sys.http, police.headers, { fields: basics });
    const res = await putFields(sys.http, social, personId, { insured: true, district: 'Erqi' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('district');
    const own = await putFields(sys.http, social, personId, { insured: true, insuranceScheme: 'urban employee' }, 'enrolled', 'SS-2026-0001');
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().changed.sort()).toEqual(['insuranceScheme', 'insured']);
    const read = await sys.http.inject({ method: 'GET', url: `/v1/registry/people/${personId}`, headers: police.headers });
    expect(read.json().fields.district).toBe('Jinshui');
    const audit = await auditOf(`personId=${personId}&departmentId=social_security`);
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([
      ['write', 'forbidden'],
      ['write', 'ok'],
    ]);
  });

  it('creates a person only as admin or as the owner of the basic fields', async () => {
    const bySocial = await sys.http.inject({ method: 'POST', url: '/v1/registry/people', headers: social.headers, payload: { idType: 'id_card', idNumber: personIdNumber(), fields: { insured: true }, reason: 'x' } });
    expect(bySocial.statusCode).toBe(403);
    expect(bySocial.json().detail).toContain('name');
    const byAdmin = await sys.http.inject({ method: 'POST', url: '/v1/registry/people', headers: admin, payload: { idType: 'passport', idNumber: 'E12345678', fields: { name: 'Anna Schmidt', nationality: 'DE' }, reason: 'foreign resident' } });
    expect(byAdmin.statusCode, byAdmin.body).toBe(201);
    const again = await sys.http.inject({ method: 'POST', url: '/v1/registry/people', headers: admin, payload: { idType: 'passport', idNumber: 'e12345678', fields: { name: 'Anna Schmidt' }, reason: 'again' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ personId: byAdmin.json().personId, created: false });
  });

  it('refuses unknown fields and bad values with 400, and admin writes with 403', async () => {
    const { personId } = await createPerson(sys.http, police.headers, { fields: { name: 'Zhao' } });
    expect((await putFields(sys.http, police, personId, { salary: 1 })).statusCode).toBe(400);
    const bad = await putFields(sys.http, police, personId, { birthDate: '1980-02-30' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain('birthDate');
    expect((await putFields(sys.http, police, personId, { residenceNature: 'tourist' })).statusCode).toBe(400);
    expect((await putFields(sys.http, police, '999999', { name: 'X' })).statusCode).toBe(404);
    const asAdmin = await sys.http.inject({ method: 'PUT', url: `/v1/registry/people/${personId}/fields`, headers: admin, payload: { fields: { name: 'X' }, reason: 'x' } });
    expect(asAdmin.statusCode).toBe(403);
  });
});

describe('a department reads only its allowed fields', () => {
  it('leaves out fields outside its reads and masks the id number without the idNumber right', async () => {
    const idNumber = personIdNumber();
    const { personId } = await createPerson(sys.http, police.headers, { idNumber, fields: basics });
    await putFields(sys.http, social, personId, { insured: true, employment: 'Zhengzhou Textile Co.' });
    const bySocial = await sys.http.inject({ method: 'GET', url: `/v1/registry/people/${personId}`, headers: social.headers });
    expect(bySocial.statusCode).toBe(200);
    const body = bySocial.json();
    expect(body.fields).toEqual({ name: 'Li Wei', district: 'Jinshui', insured: true });
    expect(body.idNumber).not.toBe(idNumber);
    expect(body.idNumber).toMatch(/\*/);
    expect(bySocial.body).not.toContain('Huayuan Road');
    expect(bySocial.body).not.toContain('Textile'); // social security writes employment but may not read it
    const byPolice = await sys.http.inject({ method: 'GET', url: `/v1/registry/people/${personId}`, headers: police.headers });
    expect(byPolice.json()).toMatchObject({ idNumber, fields: { address: basics.address, birthDate: '1980-05-17' } });
    const lookup = await sys.http.inject({ method: 'GET', url: `/v1/registry/people?idType=id_card&idNumber=${idNumber}`, headers: social.headers });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.json()).toMatchObject({ personId, fields: { name: 'Li Wei' } });
    expect(lookup.json().fields.birthDate).toBeUndefined();
    const missing = await sys.http.inject({ method: 'GET', url: `/v1/registry/people?idType=id_card&idNumber=${personIdNumber()}`, headers: social.headers });
    expect(missing.statusCode).toBe(404);
    const audit = await auditOf(`personId=${personId}`);
    expect(audit.filter((a) => a.action === 'read' || a.action === 'lookup').map((a) => [a.departmentId, a.action, a.fields.sort()])).toEqual([
      ['social_security', 'read', ['district', 'insured', 'name']],
      ['public_security', 'read', [...Object.keys(basics), 'idNumber'].sort()],
      ['social_security', 'lookup', ['district', 'insured', 'name']],
    ]);
  });

  it('keeps id numbers and addresses encrypted at rest', async () => {
    const idNumber = personIdNumber();
    const { personId } = await createPerson(sys.http, police.headers, { idNumber, fields: { ...basics, address: 'Secret Lane 77' } });
    const dump = await sys.pool.query(
      `SELECT (SELECT row_to_json(p)::text FROM people p WHERE person_id = $1) AS person,
              (SELECT string_agg(row_to_json(f)::text, '') FROM person_fields f WHERE person_id = $1) AS fields,
              (SELECT string_agg(row_to_json(c)::text, '') FROM person_changes c WHERE person_id = $1) AS changes`,
      [personId],
    );
    const all = JSON.stringify(dump.rows[0]);
    expect(all).not.toContain(idNumber);
    expect(all).not.toContain('Secret Lane');
    expect(all).toContain('Jinshui'); // the district is not secret: statistics group by it
    expect(sys.logLines.join('')).not.toContain(idNumber);
  });
});

describe('the changes feed and the history', () => {
  it('delivers changes of readable fields after a cursor, page by page', async () => {
    const start = await sys.http.inject({ method: 'GET', url: '/v1/registry/changes?since=0&limit=500', headers: social.headers });
    let cursor = start.json().nextCursor as string;
    const { personId } = await createPerson(sys.http, police.headers, { fields: { name: 'Wang Fang', district: 'Erqi', address: 'Hidden Street 5' } });
    await putFields(sys.http, police, personId, { district: 'Zhongyuan', address: 'Hidden Street 9' }, 'moved within the city', 'HR-2026-77');
    await putFields(sys.http, social, personId, { insured: true });
    const seen: { field: string; newValue: unknown; oldValue: unknown; departmentId: string; personId: string }[] = [];
    for (let page = 0; page < 10; page++) {
      const res = await sys.http.inject({ method: 'GET', url: `/v1/registry/changes?since=${cursor}&limit=2`, headers: social.headers });
      expect(res.statusCode).toBe(200);
      const { items, nextCursor } = res.json();
      seen.push(...items);
      if (items.length === 0) break;
      cursor = nextCursor;
    }
    const mine = seen.filter((c) => c.personId === personId);
    expect(mine.map((c) => [c.field, c.oldValue, c.newValue, c.departmentId])).toEqual([
      ['name', null, 'Wang Fang', 'public_security'],
      ['district', null, 'Erqi', 'public_security'],
      ['district', 'Erqi', 'Zhongyuan', 'public_security'],
      ['insured', null, true, 'social_security'],
    ]);
    expect(JSON.stringify(seen)).not.toContain('Hidden Street');
    const civilFeed = await sys.http.inject({ method: 'GET', url: `/v1/registry/changes?since=0&limit=500`, headers: civil.headers });
    expect(civilFeed.json().items.every((c: { field: string }) => ['name', 'birthDate', 'disabilityCertificate', 'lowIncomeSupport'].includes(c.field))).toBe(true);
    const audit = await auditOf('departmentId=social_security');
    expect(audit.filter((a) => a.action === 'changes').length).toBeGreaterThanOrEqual(3);
  });

  it('keeps every value in the history, with who, when, why and the document', async () => {
    const { personId } = await createPerson(sys.http, police.headers, { fields: { name: 'Chen Jie', address: 'A Road 1' } });
    await putFields(sys.http, police, personId, { address: 'B Road 2' }, 'moved', 'DOC-1');
    await putFields(sys.http, police, personId, { address: 'C Road 3' }, 'moved again', 'DOC-2');
    await putFields(sys.http, police, personId, { address: 'C Road 3' }, 'same value'); // no change, no history row
    const res = await sys.http.inject({ method: 'GET', url: `/v1/registry/people/${personId}/history`, headers: police.headers });
    const address = res.json().items.filter((i: { field: string }) => i.field === 'address');
    expect(address.map((i: { oldValue: unknown; newValue: unknown; reason: string; sourceDocument: string | null; departmentId: string }) => [i.oldValue, i.newValue, i.reason, i.sourceDocument, i.departmentId])).toEqual([
      [null, 'A Road 1', 'registration', null, 'public_security'],
      ['A Road 1', 'B Road 2', 'moved', 'DOC-1', 'public_security'],
      ['B Road 2', 'C Road 3', 'moved again', 'DOC-2', 'public_security'],
    ]);
    const bySocial = await sys.http.inject({ method: 'GET', url: `/v1/registry/people/${personId}/history`, headers: social.headers });
    expect(bySocial.json().items.map((i: { field: string }) => i.field)).toEqual(['name']);
  });

  it('refuses to alter the history or the audit log, even in SQL', async () => {
    await expect(sys.pool.query(`UPDATE person_changes SET reason = 'forged'`)).rejects.toThrow(/append-only/);
    await expect(sys.pool.query(`DELETE FROM person_changes`)).rejects.toThrow(/append-only/);
    await expect(sys.pool.query(`UPDATE registry_audit SET outcome = 'ok'`)).rejects.toThrow(/append-only/);
    await expect(sys.pool.query(`DELETE FROM registry_audit`)).rejects.toThrow(/append-only/);
    await expect(sys.pool.query(`TRUNCATE registry_audit`)).rejects.toThrow(/append-only/);
  });
});
