// GET /v1/offline-budgets?since=<version>: the per-card offline risk budgets for validators, as a
// versioned delta beside the hotlist (docs/transit.md, "Offline risk budget").
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OfflineBudgets } from '../../postgres/offline-budgets.js';
import { terminalMay } from '../../../domain/permissions.js';
import { allow, terminalOf } from '../auth.js';
import { sendProblem } from '../problem.js';

export const offlineBudgetRoutes: FastifyPluginAsyncTypebox<{ budgets: OfflineBudgets }> = async (app, { budgets }) => {
  app.get(
    '/v1/offline-budgets',
    {
      preValidation: allow('terminal', 'admin'),
      schema: {
        tags: ['transit'],
        querystring: Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'the budget version the reader holds (0: everything)' })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            version: Type.Integer(),
            changes: Type.Array(Type.Object({ cardNo: Type.String(), rides: Type.Integer({ description: 'rides the card may take at one offline reader' }) })),
            more: Type.Boolean({ description: 'more changes after `version`: ask again with since=version' }),
          }),
        },
      },
    },
    async (request, reply) => {
      const terminal = terminalOf(request);
      if (terminal && !terminalMay(terminal, 'hotlist')) return sendProblem(reply, 403, '58', `a ${terminal.kind} terminal does not read offline budgets`);
      const page = await budgets.since(BigInt(request.query.since ?? '0'));
      return reply.code(200).send({ version: Number(page.version), changes: page.changes.map((c) => ({ cardNo: c.cardNo, rides: c.rides })), more: page.more });
    },
  );
};
