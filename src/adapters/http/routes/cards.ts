// Card reads: balance and history (kiosk terminals, POS for balance, admin, or the card's citizen).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { CardQueries } from '../../../app/card-queries.js';
import { citizenItem } from '../../../app/citizen.js';
import { terminalMay, type TerminalAction } from '../../../domain/permissions.js';
import { isValidCardNo } from '../../../domain/card-number.js';
import { allow } from '../auth.js';
import { sendCodeProblem, sendNotFound } from '../problem.js';
import { Code, type ResponseCode } from '../../../domain/codes.js';
import { BalanceFen, Cursor } from '../schemas.js';

const Params = Type.Object({ cardNo: Type.String({ pattern: '^[0-9]{16}$' }) });

/** null when the caller may read this card; otherwise the code to refuse it with. */
function mayRead(request: FastifyRequest, cardNo: string, action: TerminalAction): ResponseCode | null {
  const caller = request.caller!;
  if (caller.type === 'admin') return null;
  if (caller.type === 'citizen') return caller.cardNo === cardNo ? null : Code.notPermittedCardholder;
  return terminalMay(caller.terminal, action) ? null : Code.notPermittedTerminal;
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
      if (denied) return sendCodeProblem(reply, denied);
      if (!isValidCardNo(cardNo)) return sendNotFound(reply, Code.invalidCard, 'invalid card number');
      const balance = await cards.balance(cardNo);
      if (!balance) return sendNotFound(reply, Code.invalidCard, 'unknown card');
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
      if (denied) return sendCodeProblem(reply, denied);
      if (!isValidCardNo(cardNo)) return sendNotFound(reply, Code.invalidCard, 'invalid card number');
      const limit = Math.max(1, Math.min(Number(request.query.limit ?? '20'), 100));
      const page = await cards.transactions(cardNo, limit, request.query.cursor ? BigInt(request.query.cursor) : null);
      // Outside the back office, references holding another card's number (a replacement's) are masked.
      return request.caller?.type === 'admin' ? page : { ...page, items: page.items.map(citizenItem) };
    },
  );
};
