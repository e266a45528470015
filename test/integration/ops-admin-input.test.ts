// Admin input answers that say what is wrong: a terminal on a route or station outside the fare
// network is a 400 naming it; a duplicate a 409 titled "conflict"; an unknown operator, merchant or
// citizen a 404 titled "not found" (they all said "format error", code 30, before).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin } from '../support/fixtures.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await createTestSystem();
});
afterAll(async () => sys?.destroy());

const post = (url: string, payload: Record<string, unknown>) => sys.http.inject({ method: 'POST', url, headers: admin, payload });

describe('POST /v1/admin/terminals', () => {
  it('refuses a bus on an unknown route and a gate at an unknown station with 400 naming them; nothing is registered', async () => {
    const bus = await post('/v1/admin/terminals', { terminalId: 'BUSNOPE1', kind: 'bus', operatorId: 'ZZBUS', routeId: 'B999' });
    expect(bus.statusCode).toBe(400);
    expect(bus.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bus.json()).toMatchObject({ status: 400, code: '30', title: 'unknown route' });
    expect(bus.json().detail).toContain('B999');
    const gate = await post('/v1/admin/terminals', { terminalId: 'GTENOPE1', kind: 'gate', operatorId: 'ZZMETRO', stationId: 'L9-99' });
    expect(gate.statusCode).toBe(400);
    expect(gate.json()).toMatchObject({ code: '30', title: 'unknown station' });
    expect(gate.json().detail).toContain('L9-99');
    const rows = await sys.pool.query(`SELECT count(*)::int AS n FROM terminals WHERE terminal_id IN ('BUSNOPE1', 'GTENOPE1')`);
    expect(rows.rows[0].n).toBe(0);
    // Known places register.
    expect((await post('/v1/admin/terminals', { terminalId: 'BUSOK001', kind: 'bus', operatorId: 'ZZBUS', routeId: 'B906' })).statusCode).toBe(201);
    expect((await post('/v1/admin/terminals', { terminalId: 'GTEOK001', kind: 'gate', operatorId: 'ZZMETRO', stationId: 'ZJS' })).statusCode).toBe(201);
  });

  it('answers a second registration of the same id 409 titled conflict, and keeps the first keys', async () => {
    const body = { terminalId: 'POSDUP01', kind: 'pos', merchantId: 'M0000000000001' };
    const first = await post('/v1/admin/terminals', body);
    expect(first.statusCode).toBe(201);
    const again = await post('/v1/admin/terminals', body);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ status: 409, title: 'conflict', code: '94' });
    expect(again.json().detail).toContain('POSDUP01');
    expect(again.body).not.toContain(first.json().apiKey);
  });

  it('answers an unknown operator or merchant 404 titled not found, naming it', async () => {
    const op = await post('/v1/admin/terminals', { terminalId: 'BUSNOOP1', kind: 'bus', operatorId: 'NOBODY', routeId: 'B2' });
    expect(op.statusCode).toBe(404);
    expect(op.json()).toMatchObject({ status: 404, title: 'not found' });
    expect(op.json().detail).toContain('NOBODY');
    const m = await post('/v1/admin/terminals', { terminalId: 'POSNOM01', kind: 'pos', merchantId: 'M9999999999999' });
    expect(m.statusCode).toBe(404);
    expect(m.json()).toMatchObject({ title: 'not found' });
    expect(m.json().detail).toContain('M9999999999999');
  });
});

describe('other admin registrations', () => {
  it('an unknown citizen → 404 titled not found; an operator with other content → 409 titled conflict', async () => {
    const card = await post('/v1/admin/cards', { citizenId: 987654, cardType: 'adult' });
    expect(card.statusCode).toBe(404);
    expect(card.json()).toMatchObject({ status: 404, title: 'not found' });
    expect(card.json().detail).toContain('987654');
    expect(card.json().title).not.toBe('format error');
    const op = { operatorId: 'OPSX', name: 'Ops test bus', mode: 'bus' };
    expect((await post('/v1/admin/operators', op)).statusCode).toBe(201);
    const other = await post('/v1/admin/operators', { ...op, name: 'Other' });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ title: 'conflict', code: '94' });
  });
});
