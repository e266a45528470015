// Top-up orders over HTTP (DESIGN §11): the citizen creates, reads and cancels (JWT, moves nothing);
// the kiosk terminal (its token) or the back office for bank/app payments (admin) confirms.
import { recordDecision } from '../decisions.js';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { statusAt, type ConfirmResult, type TopupOrder, type TopupOrders } from '../../../app/topup-orders.js';
import type { Clock } from '../../../platform/clock.js';
import { maskCardNo } from '../../../domain/card-number.js';
import { Code } from '../../../domain/codes.js';
import { allow, terminalOf } from '../auth.js';
import { sendCodeProblem, sendNotFound } from '../problem.js';
import { AmountFen, BalanceFen, fen } from '../schemas.js';
import { outcomeReply } from './outcome.js';

export const OrderId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'top-up order id (32 hex characters, chosen by the server)' });
const OrderParams = Type.Object({ orderId: OrderId });

const OrderView = Type.Object({
  orderId: OrderId,
  amount: Type.Integer({ description: 'fen' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('confirming'), Type.Literal('confirmed'), Type.Literal('declined'), Type.Literal('cancelled'), Type.Literal('expired')]),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  channel: Type.Union([Type.String(), Type.Null()]),
  code: Type.Union([Type.String(), Type.Null()]),
  transactionId: Type.Union([Type.String(), Type.Null()]),
});

const ConfirmAnswer = Type.Object({
  approved: Type.Boolean(),
  code: Type.String(),
  orderId: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  cardNo: Type.Optional(Type.String({ description: 'masked' })),
  transactionId: Type.Optional(Type.String()),
  balance: Type.Optional(BalanceFen),
});

function cardOf(request: FastifyRequest): string {
  return request.caller?.type === 'citizen' ? request.caller.cardNo : '';
}

export const topupOrderRoutes: FastifyPluginAsyncTypebox<{ orders: TopupOrders; clock: Clock }> = async (app, { orders, clock }) => {
  const view = (o: TopupOrder) => ({
    orderId: o.orderId,
    amount: fen(o.amountFen),
    status: statusAt(o, clock.now()),
    createdAt: o.createdAt.toISOString(),
    expiresAt: o.expiresAt.toISOString(),
    channel: o.channel,
    code: o.code,
    transactionId: o.transactionId,
  });

  function confirmReply(reply: FastifyReply, result: ConfirmResult): FastifyReply {
    switch (result.kind) {
      // Every answer of a confirmation is an authorization decision (src/platform/metrics.ts); outcomeReply counts its own.
      case 'not-found':
        recordDecision(reply, Code.originalNotFound);
        return sendNotFound(reply, Code.originalNotFound, 'no such top-up order');
      case 'conflict':
        recordDecision(reply, Code.duplicateDifferent);
        return sendCodeProblem(reply, Code.duplicateDifferent, `${result.reason}; nothing was moved`);
      case 'refused':
        recordDecision(reply, result.code);
        return reply.code(200).send({ approved: false, code: result.code, status: result.status });
      case 'outcome': {
        const o = result.order;
        const about = { orderId: o.orderId, status: statusAt(o, clock.now()), cardNo: maskCardNo(o.cardNo) };
        return outcomeReply(reply, result.outcome, (r) => ({ ...about, transactionId: String(r.transactionId), balance: fen(r.balance as string) }), about);
      }
    }
  }

  app.post(
    '/v1/citizen/topup-orders',
    {
      preValidation: allow('citizen'),
      schema: {
        tags: ['citizen'],
        description: 'Creates a pending top-up order for the caller\'s card. Moves no money: a kiosk terminal or the bank channel confirms it.',
        body: Type.Object({ amount: AmountFen }, { additionalProperties: false }),
        response: { 201: OrderView },
      },
    },
    async (request, reply) => {
      const result = await orders.create(cardOf(request), BigInt(request.body.amount));
      if (result.kind === 'refused') return sendCodeProblem(reply, result.code, result.reason);
      return reply.code(201).send(view(result.order));
    },
  );

  app.get(
    '/v1/citizen/topup-orders/:orderId',
    { preValidation: allow('citizen'), schema: { tags: ['citizen'], params: OrderParams, response: { 200: OrderView } } },
    async (request, reply) => {
      const order = await orders.get(cardOf(request), request.params.orderId);
      if (!order) return sendNotFound(reply, Code.originalNotFound, 'no such top-up order');
      return view(order);
    },
  );

  app.post(
    '/v1/citizen/topup-orders/:orderId/cancel',
    {
      preValidation: allow('citizen'),
      schema: { tags: ['citizen'], description: 'Cancels a pending order (idempotent); a confirmed order stays confirmed.', params: OrderParams, body: Type.Object({}, { additionalProperties: false }), response: { 200: OrderView } },
    },
    async (request, reply) => {
      const order = await orders.cancel(cardOf(request), request.params.orderId);
      if (!order) return sendNotFound(reply, Code.originalNotFound, 'no such top-up order');
      return view(order);
    },
  );

  app.post(
    '/v1/topup-orders/:orderId/confirm',
    {
      config: { operation: 'topup-order' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['money'],
        description: 'The kiosk terminal confirms an order after its cash or card acceptor took `amount`; idempotent for that terminal.',
        params: OrderParams,
        body: Type.Object({ amount: AmountFen }, { additionalProperties: false }),
        response: { 200: ConfirmAnswer },
      },
    },
    async (request, reply) => {
      const result = await orders.confirm({ type: 'terminal', terminal: terminalOf(request)! }, request.params.orderId, BigInt(request.body.amount));
      return confirmReply(reply, result);
    },
  );

  app.post(
    '/v1/admin/topup-orders/:orderId/confirm',
    {
      config: { operation: 'topup-order' },
      preValidation: allow('admin'),
      schema: {
        tags: ['admin'],
        description: 'The bank or app back end confirms an order after the bank confirmed the payment; idempotent for that channel.',
        params: OrderParams,
        body: Type.Object({ amount: AmountFen, channel: Type.Union([Type.Literal('bank'), Type.Literal('app')]) }, { additionalProperties: false }),
        response: { 200: ConfirmAnswer },
      },
    },
    async (request, reply) => {
      const result = await orders.confirm({ type: 'admin', channel: request.body.channel }, request.params.orderId, BigInt(request.body.amount));
      return confirmReply(reply, result);
    },
  );
};
