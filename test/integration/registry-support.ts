// Helpers of the registry tests: departments and people through the real API.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { admin, bearer } from '../support/fixtures.js';

export interface Department {
  departmentId: string;
  apiKey: string;
  headers: { authorization: string };
}

export async function department(app: FastifyInstance, departmentId: string, writes: string[], reads: string[]): Promise<Department> {
  const res = await app.inject({ method: 'POST', url: '/v1/admin/departments', headers: admin, payload: { departmentId, name: departmentId.replace(/_/g, ' '), writes, reads } });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json() as { departmentId: string; apiKey: string };
  return { ...body, headers: bearer(body.apiKey) };
}

let seq = 0;
export function personIdNumber(): string {
  seq++;
  return `41010219${String(Date.now() % 1e6).padStart(6, '0')}${String(seq % 1000).padStart(3, '0')}X`;
}

export async function createPerson(app: FastifyInstance, headers: { authorization: string }, body: Record<string, unknown>): Promise<{ personId: string; citizenId: string | null }> {
  const res = await app.inject({ method: 'POST', url: '/v1/registry/people', headers, payload: { idType: 'id_card', idNumber: personIdNumber(), reason: 'registration', ...body } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { personId: string; citizenId: string | null };
}

export function putFields(app: FastifyInstance, d: Department, personId: string, fields: Record<string, unknown>, reason = 'update', sourceDocument?: string) {
  return app.inject({ method: 'PUT', url: `/v1/registry/people/${personId}/fields`, headers: d.headers, payload: { fields, reason, ...(sourceDocument ? { sourceDocument } : {}) } });
}
