// Operators' PIN calls (docs/security.md): end a card's PIN lock, and let a terminal blocked for
// wrong PINs on too many cards make PIN transactions again. Both are audited in PostgreSQL.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MoneyService } from '../../../app/money.js';
import { allow } from '../auth.js';
import { sendNotFound } from '../problem.js';
import { Code } from '../../../domain/codes.js';
import { CardNo } from '../schemas.js';

/** Who did it, as the back office names its operator; the admin token alone when not given. */
const OperatorBody = Type.Optional(
  Type.Object({ operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@-]+$', description: 'operator id, written to the audit' })) }, { additionalProperties: false }),
);
const defaultOperator = 'admin-token';

export const pinAdminRoutes: FastifyPluginAsyncTypebox<{ money: MoneyService }> = async (app, { money }) => {
  app.post(
    '/v1/admin/cards/:cardNo/pin-unlock',
    {
      preValidation: allow('admin'),
      schema: {
        tags: ['admin'],
        params: Type.Object({ cardNo: CardNo }),
        body: OperatorBody,
        response: { 200: Type.Object({ cardNo: Type.String(), pinLocked: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      const found = await money.unlockPin(request.params.cardNo, request.body?.operator ?? defaultOperator);
      if (!found) return sendNotFound(reply, Code.invalidCard, 'no such card');
      return { cardNo: request.params.cardNo, pinLocked: false };
    },
  );

  app.post(
    '/v1/admin/terminals/:terminalId/pin-clear',
    {
      preValidation: allow('admin'),
      schema: {
        tags: ['admin'],
        params: Type.Object({ terminalId: Type.String({ pattern: '^[A-Za-z0-9]{8}$' }) }),
        body: OperatorBody,
        response: { 200: Type.Object({ terminalId: Type.String(), wasBlocked: Type.Boolean() }) },
      },
    },
    async (request) => {
      const wasBlocked = await money.clearTerminalPin(request.params.terminalId, request.body?.operator ?? defaultOperator);
      return { terminalId: request.params.terminalId, wasBlocked };
    },
  );
};
