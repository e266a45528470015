// Registry routes (DESIGN §14, docs/registry.md): departments (admin), people created, changed,
// read and looked up by department keys within their rights, the changes feed, the audit log.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { fieldNames, readRights, textLengthMax } from '../../../domain/registry/fields.js';
import { auditPageMax, changesPageMax, idNumberLengthMax, reasonLengthMax, type Refusal, type RegistryService } from '../../../app/registry.js';
import { sendProblem } from '../problem.js';
import { guard } from './registry-auth.js';

const fieldsMax = fieldNames.length;
const Value = Type.Union([Type.String({ maxLength: textLengthMax }), Type.Boolean(), Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 }), Type.Null()]);
const Fields = Type.Record(Type.String({ maxLength: 64 }), Value, { maxProperties: fieldsMax, description: `field → value; fields: ${fieldNames.join(', ')}` });
const Reason = Type.String({ minLength: 1, maxLength: reasonLengthMax, description: 'why the change is made' });
const SourceDocument = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the document the change is based on' }));
const IdType = Type.Union([Type.Literal('id_card'), Type.Literal('passport')]);
const IdNumber = Type.String({ minLength: 5, maxLength: idNumberLengthMax, pattern: '^[A-Za-z0-9]+$' });
const PersonId = Type.String({ pattern: '^[1-9][0-9]{0,17}$' });
const Cursor = Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$' });
const Limit = Type.String({ pattern: '^[0-9]{1,4}$', description: 'page size' });
const limitOf = (text: string | undefined, fallback: number, max: number): number => Math.max(1, Math.min(Number(text ?? fallback), max));
const FieldName = Type.String({ minLength: 1, maxLength: 64 });

const DepartmentBody = Type.Object(
  {
    departmentId: Type.String({ pattern: '^[a-z][a-z0-9_]{1,31}$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    writes: Type.Array(FieldName, { maxItems: fieldsMax, description: `fields the department owns: ${fieldNames.join(', ')}` }),
    reads: Type.Array(FieldName, { maxItems: readRights.length, description: `fields it may read, and idNumber (in clear), stats: ${readRights.join(', ')}` }),
  },
  { additionalProperties: false },
);

const PersonView = Type.Object({ personId: Type.String(), idType: IdType, idNumber: Type.String(), citizenId: Type.Union([Type.String(), Type.Null()]), fields: Type.Record(Type.String(), Value) });
const ChangeView = Type.Object({
  changeId: Type.String(),
  personId: Type.String(),
  field: Type.String(),
  oldValue: Value,
  newValue: Value,
  departmentId: Type.String(),
  reason: Type.String(),
  sourceDocument: Type.Union([Type.String(), Type.Null()]),
  changedAt: Type.String(),
});

const PersonCreated = Type.Object({ personId: Type.String(), created: Type.Boolean(), citizenId: Type.Union([Type.String(), Type.Null()]) });

function refuse(reply: FastifyReply, r: Refusal): FastifyReply {
  const code = r.status === 403 ? '57' : r.status === 404 ? '25' : r.status === 409 ? '94' : '30';
  return sendProblem(reply, r.status, code, r.detail);
}

export const registryRoutes: FastifyPluginAsyncTypebox<{ registry: RegistryService }> = async (app, { registry }) => {
  app.post('/v1/admin/departments', { schema: { tags: ['registry'], body: DepartmentBody, response: { 201: Type.Object({ departmentId: Type.String(), apiKey: Type.String() }) } } }, async (request, reply) => {
    if (!(await guard(request, reply, registry, ['admin']))) return reply;
    const r = await registry.createDepartment(request.body);
    if (!r.ok) return refuse(reply, r);
    return reply.code(201).send(r.value);
  });

  app.post(
    '/v1/registry/people',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          { idType: IdType, idNumber: IdNumber, citizenId: Type.Optional(PersonId), fields: Fields, reason: Reason, sourceDocument: SourceDocument },
          { additionalProperties: false },
        ),
        response: { 200: PersonCreated, 201: PersonCreated },
      },
    },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['admin', 'department']);
      if (!caller) return reply;
      const b = request.body;
      const r = await registry.createPerson(caller, { ...b, citizenId: b.citizenId === undefined ? undefined : BigInt(b.citizenId) });
      if (!r.ok) return refuse(reply, r);
      return reply.code(r.value.created ? 201 : 200).send(r.value);
    },
  );

  app.put(
    '/v1/registry/people/:personId/fields',
    {
      schema: {
        tags: ['registry'],
        params: Type.Object({ personId: PersonId }),
        body: Type.Object({ fields: Fields, reason: Reason, sourceDocument: SourceDocument }, { additionalProperties: false }),
        response: { 200: Type.Object({ personId: Type.String(), changed: Type.Array(Type.String()) }) },
      },
    },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['department']);
      if (!caller) return reply;
      const r = await registry.writeFields(caller, BigInt(request.params.personId), request.body);
      return r.ok ? r.value : refuse(reply, r);
    },
  );

  app.get('/v1/registry/people/:personId', { schema: { tags: ['registry'], params: Type.Object({ personId: PersonId }), response: { 200: PersonView } } }, async (request, reply) => {
    const caller = await guard(request, reply, registry, ['department']);
    if (!caller) return reply;
    const r = await registry.readPerson(caller, BigInt(request.params.personId));
    return r.ok ? r.value : refuse(reply, r);
  });

  app.get(
    '/v1/registry/people/:personId/history',
    { schema: { tags: ['registry'], params: Type.Object({ personId: PersonId }), response: { 200: Type.Object({ personId: Type.String(), items: Type.Array(ChangeView) }) } } },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['department']);
      if (!caller) return reply;
      const r = await registry.history(caller, BigInt(request.params.personId));
      return r.ok ? r.value : refuse(reply, r);
    },
  );

  app.get(
    '/v1/registry/people',
    { schema: { tags: ['registry'], querystring: Type.Object({ idType: IdType, idNumber: IdNumber }, { additionalProperties: false }), response: { 200: PersonView } } },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['department']);
      if (!caller) return reply;
      const r = await registry.lookup(caller, request.query.idType, request.query.idNumber);
      return r.ok ? r.value : refuse(reply, r);
    },
  );

  app.get(
    '/v1/registry/changes',
    {
      schema: {
        tags: ['registry'],
        querystring: Type.Object({ since: Type.Optional(Cursor), limit: Type.Optional(Limit) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(ChangeView), nextCursor: Type.String() }) },
      },
    },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['department']);
      if (!caller) return reply;
      return registry.changes(caller, BigInt(request.query.since ?? '0'), limitOf(request.query.limit, 100, changesPageMax));
    },
  );

  app.get(
    '/v1/admin/audit',
    {
      schema: {
        tags: ['registry'],
        querystring: Type.Object(
          { personId: Type.Optional(PersonId), departmentId: Type.Optional(Type.String({ maxLength: 32 })), cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      if (!(await guard(request, reply, registry, ['admin']))) return reply;
      const q = request.query;
      return registry.auditLog({ personId: q.personId === undefined ? undefined : BigInt(q.personId), departmentId: q.departmentId, cursor: BigInt(q.cursor ?? '0'), limit: limitOf(q.limit, 200, auditPageMax) });
    },
  );
};
