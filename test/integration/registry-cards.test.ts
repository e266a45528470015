// The card follows the registry, against real PostgreSQL and Redis through the HTTP API: a birthday
// that reaches the policy's senior age (injected clock) changes the concession on the next tap; a
// disability certificate from civil affairs makes the next ride free; a student enrolment gives a
// new card the student fare; insured status comes from social security; a deceased or moved-away
// person's cards are blocked with the reason (docs/registry.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, idNumber } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { bus, tap } from './transit-helpers.js';
import { createPerson, department, putFields, type Department } from './registry-support.js';
import type { RegisteredTerminal } from '../support/fixtures.js';

const clock = fixedClock(new Date('2026-03-02T10:00:00+08:00')); // a Monday, outside the senior peak windows
let sys: TestSystem;
let b2: RegisteredTerminal;
let police: Department;
let civil: Department;
let social: Department;
let education: Department;

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  b2 = await bus(sys.http, 'B2');
  police = await department(sys.http, 'public_security', ['name', 'birthDate', 'lifeStatus', 'residenceStatus', 'district'], ['name', 'birthDate']);
  civil = await department(sys.http, 'civil_affairs', ['disabilityCertificate', 'lowIncomeSupport'], ['name', 'disabilityCertificate']);
  social = await department(sys.http, 'social_security', ['insured', 'insuranceScheme'], ['insured']);
  education = await department(sys.http, 'education', ['studentEnrolment'], ['studentEnrolment']);
});
afterAll(async () => sys.destroy());

/** A card holder (admin API) with a card and money, and the same person in the registry (linked by the id number). */
async function holderWithCard(fields: Record<string, unknown>, cardType = 'adult'): Promise<{ cardNo: string; personId: string; citizenId: string }> {
  const id = idNumber();
  const citizen = await sys.http.inject({ method: 'POST', url: '/v1/admin/citizens', headers: admin, payload: { name: 'Holder', idNumber: id, insured: true } });
  const citizenId = String(citizen.json().citizenId);
  const card = await sys.http.inject({ method: 'POST', url: '/v1/admin/cards', headers: admin, payload: { citizenId: Number(citizenId), cardType } });
  const cardNo = card.json().cardNo as string;
  const top = await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: `t-${cardNo}`, cardNo, amount: 5000, channel: 'bank' } });
  expect(top.json().approved).toBe(true);
  const person = await createPerson(sys.http, police.headers, { idNumber: id, fields });
  expect(person.citizenId).toBe(citizenId);
  return { cardNo, personId: person.personId, citizenId };
}

const now = (): string => clock.now().toISOString();

describe('concessions from the registry', () => {
  it('a birthday reaching the senior age changes the fare on the next tap', async () => {
    clock.set(new Date('2026-03-02T10:00:00+08:00'));
    const { cardNo } = await holderWithCard({ name: 'Zhou Min', birthDate: '1966-03-03' });
    const before = await tap(sys.http, b2, cardNo, now());
    expect(before).toMatchObject({ approved: true, fare: 100 });
    // Still 59 one minute before the business day of the birthday begins (04:00 Shanghai).
    clock.set(new Date('2026-03-03T03:59:00+08:00'));
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ approved: true, fare: 100 });
    clock.set(new Date('2026-03-03T10:00:00+08:00'));
    const after = await tap(sys.http, b2, cardNo, now());
    expect(after).toMatchObject({ approved: true, fare: 0 });
    expect((after.explanation as string[]).join(' ')).toContain('senior');
    const row = await sys.pool.query(`SELECT card_type, registry_type, registry_type_until FROM cards WHERE card_no = $1`, [cardNo]);
    expect(row.rows[0]).toEqual({ card_type: 'adult', registry_type: 'senior', registry_type_until: null });
  });

  it('a disability certificate added by civil affairs makes the next ride free, and its withdrawal ends it', async () => {
    clock.set(new Date('2026-03-04T10:00:00+08:00'));
    const { cardNo, personId } = await holderWithCard({ name: 'Sun Hao', birthDate: '1990-07-01' });
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ fare: 100 });
    const res = await putFields(sys.http, civil, personId, { disabilityCertificate: 'CDPF-4101-2026-0042' }, 'certificate issued', 'CDPF-4101-2026-0042');
    expect(res.statusCode, res.body).toBe(200);
    clock.advance(2 * 3600_000);
    const free = await tap(sys.http, b2, cardNo, now());
    expect(free).toMatchObject({ approved: true, fare: 0 });
    expect((free.explanation as string[]).join(' ')).toContain('disabled');
    await putFields(sys.http, civil, personId, { disabilityCertificate: null }, 'certificate withdrawn');
    clock.advance(2 * 3600_000);
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ fare: 100 });
  });

  it('a card issued to an enrolled student starts with the student fare', async () => {
    clock.set(new Date('2026-03-05T10:00:00+08:00'));
    const id = idNumber();
    const citizen = await sys.http.inject({ method: 'POST', url: '/v1/admin/citizens', headers: admin, payload: { name: 'Student', idNumber: id } });
    const { personId } = await createPerson(sys.http, police.headers, { idNumber: id, fields: { name: 'Ma Lin', birthDate: '2008-09-01' } });
    expect((await putFields(sys.http, education, personId, { studentEnrolment: 'Zhengzhou No. 1 High School' })).statusCode).toBe(200);
    const card = await sys.http.inject({ method: 'POST', url: '/v1/admin/cards', headers: admin, payload: { citizenId: citizen.json().citizenId, cardType: 'adult' } });
    const cardNo = card.json().cardNo as string;
    await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: `t-${cardNo}`, cardNo, amount: 1000, channel: 'bank' } });
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ approved: true, fare: 50 });
  });
});

describe('insured status and blocking from the registry', () => {
  it('takes the insured flag from the social-security department', async () => {
    clock.set(new Date('2026-03-06T10:00:00+08:00'));
    const { citizenId, personId } = await holderWithCard({ name: 'He Yun' });
    await putFields(sys.http, social, personId, { insured: false }, 'contributions stopped');
    expect((await sys.pool.query(`SELECT insured FROM citizens WHERE citizen_id = $1`, [citizenId])).rows[0].insured).toBe(false);
    await putFields(sys.http, social, personId, { insured: true, insuranceScheme: 'urban resident' }, 'enrolled');
    expect((await sys.pool.query(`SELECT insured FROM citizens WHERE citizen_id = $1`, [citizenId])).rows[0].insured).toBe(true);
  });

  it.each([
    ['deceased', { lifeStatus: 'deceased' }],
    ['moved away', { residenceStatus: 'moved_away' }],
  ])('blocks the cards of a person %s, with the reason', async (reason, fields) => {
    clock.set(new Date('2026-03-07T10:00:00+08:00'));
    const { cardNo, personId } = await holderWithCard({ name: 'Gao Ping', birthDate: '1950-01-01' });
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ approved: true });
    expect((await putFields(sys.http, police, personId, fields, reason)).statusCode).toBe(200);
    clock.advance(3600_000);
    expect(await tap(sys.http, b2, cardNo, now())).toMatchObject({ approved: false, code: '43' });
    const row = await sys.pool.query(`SELECT status, status_reason FROM cards WHERE card_no = $1`, [cardNo]);
    expect(row.rows[0]).toEqual({ status: 'blocked', status_reason: reason });
    const hot = await sys.pool.query(`SELECT listed, reason FROM hotlist_changes WHERE card_no = $1 ORDER BY version DESC LIMIT 1`, [cardNo]);
    expect(hot.rows[0]).toEqual({ listed: true, reason: 'blocked' });
  });
});
