// Money calls of terminals (DESIGN §5): top-ups, small payments, reversals and refunds.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MoneyService } from '../../../app/money.js';
import { allow, terminalOf } from '../auth.js';
import { AmountFen, BalanceFen, CardNo, ClientId, Code, fen } from '../schemas.js';
import { outcomeReply } from './outcome.js';
import { sendCodeProblem } from '../problem.js';
import { Code as ResponseCodes } from '../../../domain/codes.js';

const LooseCardNo = Type.String({ pattern: '^[0-9]{1,19}$', description: 'card number (unknown or Luhn-invalid numbers are declined with 14)' });

export const moneyRoutes: FastifyPluginAsyncTypebox<{ money: MoneyService }> = async (app, { money }) => {
  app.post(
    '/v1/topups',
    {
      config: { operation: 'topup' },
      preValidation: allow('terminal', 'admin'),
      schema: {
        tags: ['money'],
        body: Type.Object(
          {
            topupId: ClientId,
            cardNo: LooseCardNo,
            amount: AmountFen,
            channel: Type.Union([Type.Literal('kiosk'), Type.Literal('bank'), Type.Literal('app'), Type.Literal('counter')]),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ approved: Type.Boolean(), code: Code, transactionId: Type.Optional(Type.String()), balance: Type.Optional(BalanceFen) }) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const terminal = terminalOf(request);
      const outcome = await money.topup(terminal, { ...b, amount: BigInt(b.amount) });
      return outcomeReply(reply, outcome, (r) => ({ transactionId: String(r.transactionId), balance: fen(r.balance as string) }));
    },
  );

  app.post(
    '/v1/payments',
    {
      config: { operation: 'payment' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['money'],
        body: Type.Object(
          {
            paymentId: ClientId,
            cardNo: LooseCardNo,
            amount: AmountFen,
            pinBlock: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{16}$', description: 'ISO 9564 format-0 PIN block, 3DES under the terminal tpk, hex' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ approved: Type.Boolean(), code: Code, transactionId: Type.Optional(Type.String()), authCode: Type.Optional(Type.String()), balance: Type.Optional(BalanceFen) }),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const outcome = await money.payment(terminalOf(request)!, { ...b, amount: BigInt(b.amount) });
      return outcomeReply(reply, outcome, (r) => ({ transactionId: String(r.transactionId), authCode: String(r.authCode), balance: fen(r.balance as string) }));
    },
  );

  app.post(
    '/v1/payments/:paymentId/reverse',
    {
      config: { operation: 'reversal' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['money'],
        params: Type.Object({ paymentId: ClientId }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: Type.Object({ approved: Type.Boolean(), code: Code, balance: Type.Optional(BalanceFen) }) },
      },
    },
    async (request, reply) => {
      const outcome = await money.reverse(terminalOf(request)!, request.params.paymentId);
      return outcomeReply(reply, outcome, (r) => ({ balance: fen(r.balance as string) }));
    },
  );

  app.post(
    '/v1/refunds',
    {
      config: { operation: 'refund' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['money'],
        body: Type.Object({ refundId: ClientId, paymentId: ClientId, amount: AmountFen }, { additionalProperties: false }),
        response: { 200: Type.Object({ approved: Type.Boolean(), code: Code, transactionId: Type.Optional(Type.String()), balance: Type.Optional(BalanceFen) }) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (!terminalOf(request)) return sendCodeProblem(reply, ResponseCodes.notPermittedTerminal);
      const outcome = await money.refund(terminalOf(request)!, { ...b, amount: BigInt(b.amount) });
      return outcomeReply(reply, outcome, (r) => ({ transactionId: String(r.transactionId), balance: fen(r.balance as string) }));
    },
  );
};

export { CardNo };
