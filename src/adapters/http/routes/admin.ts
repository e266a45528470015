// Admin calls of DESIGN §5: registry, card status and replacement, medical allocations, trial balance.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminError, adminErrorTitles, type AdminService } from '../../../app/admin.js';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';
import { AmountFen, CardNo, ClientId, Code, fen } from '../schemas.js';
import { outcomeReply } from './outcome.js';

const PartyId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,15}$' });
const Rate = Type.String({ pattern: '^0(\\.[0-9]{1,6})?$', description: 'decimal commission rate, e.g. "0.0050"' });

export const adminRoutes: FastifyPluginAsyncTypebox<{ admin: AdminService }> = async (app, { admin }) => {
  app.addHook('preValidation', allow('admin'));

  app.post(
    '/v1/admin/operators',
    {
      schema: {
        tags: ['admin'],
        body: Type.Object({ operatorId: PartyId, name: Type.String({ minLength: 1, maxLength: 200 }), mode: Type.Union([Type.Literal('bus'), Type.Literal('metro'), Type.Literal('taxi')]), commissionRate: Type.Optional(Rate) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await admin.createOperator({ ...b, commissionRate: b.commissionRate ?? '0' });
      if (result === 'different') return sendProblem(reply, 409, '94', `operator ${b.operatorId} exists with other content`, adminErrorTitles[409]);
      return reply.code(201).send({ operatorId: b.operatorId });
    },
  );

  app.post(
    '/v1/admin/merchants',
    {
      schema: {
        tags: ['admin'],
        body: Type.Object(
          {
            merchantId: PartyId,
            name: Type.String({ minLength: 1, maxLength: 200 }),
            category: Type.Union([Type.Literal('retail'), Type.Literal('medical')]),
            mcc: Type.String({ pattern: '^[0-9]{4}$' }),
            commissionRate: Type.Optional(Rate),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await admin.createMerchant({ ...b, commissionRate: b.commissionRate ?? '0' });
      if (result === 'different') return sendProblem(reply, 409, '94', `merchant ${b.merchantId} exists with other content`, adminErrorTitles[409]);
      return reply.code(201).send({ merchantId: b.merchantId });
    },
  );

  app.post(
    '/v1/admin/terminals',
    {
      schema: {
        tags: ['admin'],
        body: Type.Object(
          {
            terminalId: Type.String({ pattern: '^[A-Za-z0-9]{8}$' }),
            kind: Type.Union(['bus', 'gate', 'taxi', 'pos', 'kiosk'].map((k) => Type.Literal(k))),
            operatorId: Type.Optional(PartyId),
            merchantId: Type.Optional(PartyId),
            routeId: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
            stationId: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            terminalId: Type.String(),
            apiKey: Type.String(),
            mak: Type.String({ description: 'double-length 3DES MAC key, 32 hex' }),
            tpk: Type.String({ description: 'double-length 3DES PIN key, 32 hex' }),
            tmk: Type.String({ description: 'terminal master key for ISO 8583 key exchange, 32 hex' }),
          }),
        },
      },
    },
    async (request, reply) => {
      try {
        const b = request.body;
        const created = await admin.createTerminal({ ...b, kind: b.kind as 'bus' | 'gate' | 'taxi' | 'pos' | 'kiosk' });
        return reply.code(201).send(created);
      } catch (error) {
        if (error instanceof AdminError) return sendProblem(reply, error.status, error.code, error.message, error.title);
        throw error;
      }
    },
  );

  app.post(
    '/v1/admin/citizens',
    {
      schema: {
        tags: ['admin'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            idNumber: Type.String({ pattern: '^[0-9]{17}[0-9Xx]$', description: '18-character resident id number' }),
            insured: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { citizenId, created } = await admin.createCitizen(request.body);
      return reply.code(created ? 201 : 200).send({ citizenId: Number(citizenId) });
    },
  );

  app.post(
    '/v1/admin/cards',
    {
      schema: {
        tags: ['admin'],
        body: Type.Object(
          {
            citizenId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
            cardType: Type.Union(['adult', 'student', 'senior', 'disabled'].map((k) => Type.Literal(k))),
            pin: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      try {
        const b = request.body;
        const card = await admin.createCard({ citizenId: BigInt(b.citizenId), cardType: b.cardType as 'adult', pin: b.pin });
        return reply.code(201).send(card);
      } catch (error) {
        if (error instanceof AdminError) return sendProblem(reply, error.status, error.code, error.message, error.title);
        throw error;
      }
    },
  );

  app.post(
    '/v1/admin/cards/:cardNo/status',
    {
      schema: {
        tags: ['admin'],
        params: Type.Object({ cardNo: CardNo }),
        body: Type.Object({ status: Type.Union([Type.Literal('active'), Type.Literal('lost'), Type.Literal('blocked')]) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      try {
        await admin.setCardStatus(request.params.cardNo, request.body.status);
        return { cardNo: request.params.cardNo, status: request.body.status };
      } catch (error) {
        if (error instanceof AdminError) return sendProblem(reply, error.status, error.code, error.message, error.title);
        throw error;
      }
    },
  );

  app.post(
    '/v1/admin/cards/:cardNo/replace',
    { schema: { tags: ['admin'], params: Type.Object({ cardNo: CardNo }), body: Type.Optional(Type.Object({}, { additionalProperties: false })) } },
    async (request, reply) => {
      try {
        const result = await admin.replaceCard(request.params.cardNo);
        return reply.code(result.created ? 201 : 200).send({ cardNo: result.cardNo });
      } catch (error) {
        if (error instanceof AdminError) return sendProblem(reply, error.status, error.code, error.message, error.title);
        throw error;
      }
    },
  );

  app.post(
    '/v1/admin/medical-accounts/:cardNo/credit',
    {
      config: { operation: 'medical-credit' },
      schema: {
        tags: ['admin'],
        params: Type.Object({ cardNo: CardNo }),
        body: Type.Object({ creditId: ClientId, amount: AmountFen }, { additionalProperties: false }),
        response: { 200: Type.Object({ approved: Type.Boolean(), code: Code, transactionId: Type.Optional(Type.String()), medical: Type.Optional(Type.Integer()) }) },
      },
    },
    async (request, reply) => {
      const outcome = await admin.creditMedical(request.params.cardNo, { creditId: request.body.creditId, amount: BigInt(request.body.amount) });
      return outcomeReply(reply, outcome, (r) => ({ transactionId: String(r.transactionId), medical: fen(r.medical as string) }));
    },
  );

  app.get('/v1/admin/trial-balance', { schema: { tags: ['admin'] } }, async () => {
    const tb = await admin.trialBalance();
    return {
      balanced: tb.balanced,
      total: fen(tb.total),
      accounts: tb.accounts.map((a) => ({ kind: a.kind, count: a.count, balance: fen(a.balance) })),
      mismatched: tb.mismatched.map((m) => ({ accountId: Number(m.accountId), kind: m.kind, ownerId: m.ownerId, balance: fen(m.balance), postings: fen(m.postings) })),
    };
  });
};
