// Statistics routes (DESIGN §14, docs/statistics.md): published tables as JSON or CSV, for the
// admin token or a department key holding the `stats` read right; every call is audited.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { statsTables, toCsv, type StatsService, type StatsTable } from '../../../app/stats.js';
import type { RegistryService } from '../../../app/registry.js';
import { sendProblem } from '../problem.js';
import { guard } from './registry-auth.js';

export const statsRoutes: FastifyPluginAsyncTypebox<{ stats: StatsService; registry: RegistryService }> = async (app, { stats, registry }) => {
  app.get(
    '/v1/stats/:table',
    {
      schema: {
        tags: ['statistics'],
        params: Type.Object({ table: Type.Union(statsTables.map((t) => Type.Literal(t))) }),
        querystring: Type.Object(
          {
            businessDate: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
            month: Type.Optional(Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const caller = await guard(request, reply, registry, ['admin', 'department']);
      if (!caller) return reply;
      const departmentId = caller.type === 'admin' ? 'admin' : caller.department.departmentId;
      const table = request.params.table as StatsTable;
      if (caller.type === 'department' && !caller.department.reads.includes('stats')) {
        await registry.audit({ departmentId, action: 'stats', personId: null, fields: [], outcome: 'forbidden', detail: table });
        return sendProblem(reply, 403, '57', 'the department does not hold the stats right');
      }
      const r = await stats.table(table, request.query);
      if (!r.ok) return sendProblem(reply, 400, '30', r.detail);
      await registry.audit({ departmentId, action: 'stats', personId: null, fields: [], outcome: 'ok', detail: `${table} ${r.value.period}` });
      if (request.query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(r.value));
      return r.value;
    },
  );
};
