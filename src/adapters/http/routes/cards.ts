// Card reads: balance and history (kiosk terminals, POS for balance, admin, or the card's citizen).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { CardQueries } from '../../../app/card-queries.js';
import { citizenItem } from '../../../app/citizen.js';
import { terminalMay, type TerminalAction } from '../../../domain/permissions.js';
import { isValidCardNo } from '../../../domain/card-number.js';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';
import { BalanceFen, Cursor } from '../schemas.js';

const Params = Type.Object({ cardNo: Type.String({ pattern: '^[0-9]{16}$' }) });

/** null when the caller may read this card; otherwise the HTTP status and code to answer. */
function mayRead(request: FastifyRequest, cardNo: string, action: TerminalAction): [number, string] | null {
  const caller = request.caller!;
  if (caller.type === 'admin') return null;
  if (caller.type === 'citizen') return caller.cardNo === cardNo ? null : [403, '57'];
  return terminalMay(caller.terminal, action) ? null : [403, '58'];
}

export const cardRoutes: FastifyPluginAsyncTypebox<{ cards: CardQueries }> = async (app, { cards }) => {
  app.get(
    '/v1/cards/:cardNo/balance',
    {
      preValidation: allow('terminal', 'admin', 'citizen'),
      schema: {
        tags: ['cards'],
        params: Params,
        response: { 200: Type.Object({ cardNo: Type.String(), status: Type.String(), purse: BalanceFen, medical: BalanceFen }) },
      },
    },
    async (request, reply) => {
      const { cardNo } = request.params;
      const denied = mayRead(request, cardNo, 'balance');
      if (denied) return sendProblem(reply, denied[0], denied[1]);
      if (!isValidCardNo(cardNo)) return sendProblem(reply, 404, '14', 'invalid card number');
      const balance = await cards.balance(cardNo);
      if (!balance) return sendProblem(reply, 404, '14', 'unknown card');
      return { cardNo, status: balance.status, purse: Number(balance.purseFen), medical: Number(balance.medicalFen) };
    },
  );

  app.get(
    '/v1/cards/:cardNo/transactions',
    {
      preValidation: allow('terminal', 'admin', 'citizen'),
      schema: {
        tags: ['cards'],
        params: Params,
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
          cursor: Type.Optional(Cursor),
        }),
      },
    },
    async (request, reply) => {
      const { cardNo } = request.params;
      const denied = mayRead(request, cardNo, 'transactions');
      if (denied) return sendProblem(reply, denied[0], denied[1]);
      if (!isValidCardNo(cardNo)) return sendProblem(reply, 404, '14', 'invalid card number');
      const limit = Math.max(1, Math.min(Number(request.query.limit ?? '20'), 100));
      const page = await cards.transactions(cardNo, limit, request.query.cursor ? BigInt(request.query.cursor) : null);
      // Outside the back office, references holding another card's number (a replacement's) are masked.
      return request.caller?.type === 'admin' ? page : { ...page, items: page.items.map(citizenItem) };
    },
  );
};
