// Citizen calls (DESIGN §5): PIN login to a JWT, the citizen's own card and history, loss report and
// the retired direct top-up (410). Login is rate limited per client address and card, limited to 20
// failed logins per address across cards per 10 minutes, and locked after 5 wrong PINs per card.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addressFailuresMax, addressWindowMs, loginLockMs, loginTriesMax, type CitizenService } from '../../../app/citizen.js';
import { maskCardNo } from '../../../domain/card-number.js';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';
import { BalanceFen, Cursor, fen } from '../schemas.js';
import { Code } from '../../../domain/codes.js';

/** Login attempts per client address and card number per window (on top of the PIN lock). */
export const loginRateMax = 10;
export const loginRateWindowMs = 60_000;
export const tokenLifetimeSeconds = 15 * 60;
export const citizenHistoryMax = 100;

class LoginRateLimited extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many login attempts');
    this.name = 'LoginRateLimited';
  }
}

/** A POST without a body is validated as `{}` (the body schema itself cannot be optional). */
async function noBodyAsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

function cardOf(request: FastifyRequest): string {
  return request.caller?.type === 'citizen' ? request.caller.cardNo : '';
}

/** problem+json with extension members (RFC 9457 §3.2): tries left, lock end. */
function loginProblem(reply: FastifyReply, status: number, code: string, title: string, detail: string, extra: Record<string, unknown>): FastifyReply {
  return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status, code, detail, ...extra });
}

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String(), detail: Type.Optional(Type.String()) }, { additionalProperties: true });

const TransactionItem = Type.Object(
  {
    transactionId: Type.String(),
    kind: Type.String(),
    reference: Type.String(),
    account: Type.String(),
    amount: Type.Integer(),
    businessDate: Type.String(),
    createdAt: Type.String(),
    terminalId: Type.Union([Type.String(), Type.Null()]),
    explanation: Type.Optional(Type.Array(Type.String())),
    detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const citizenRoutes: FastifyPluginAsyncTypebox<{ citizen: CitizenService }> = async (app, { citizen }) => {
  // Scoped to this plugin: only routes that ask for it (the login) are limited. The in-memory store
  // is per process; the lock in PostgreSQL is what holds across processes.
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler', // after body validation, so the key can carry the card number
    errorResponseBuilder: (_request, context) => new LoginRateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof LoginRateLimited) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      return sendProblem(reply, 429, '65', `too many login attempts from this address for this card; retry in ${error.retryAfterSeconds} s`);
    }
    throw error; // the application's handler (problem+json) answers the rest
  });

  app.post(
    '/v1/citizen/login',
    {
      config: {
        rateLimit: {
          max: loginRateMax,
          timeWindow: loginRateWindowMs,
          keyGenerator: (request: FastifyRequest) => `${request.ip} ${(request.body as { cardNo?: string } | undefined)?.cardNo ?? ''}`,
        },
      },
      schema: {
        tags: ['citizen'],
        security: [],
        body: Type.Object(
          {
            cardNo: Type.String({ pattern: '^[0-9]{16}$', description: '16-digit card number' }),
            pin: Type.String({ pattern: '^[0-9]{6}$', description: 'six-digit PIN' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ token: Type.String(), tokenType: Type.Literal('Bearer'), expiresIn: Type.Integer({ description: 'seconds' }) }),
          400: Problem,
          401: Problem,
          423: Problem,
          429: Problem,
        },
      },
    },
    async (request, reply) => {
      const { cardNo, pin } = request.body;
      const result = await citizen.login(cardNo, pin, request.ip);
      switch (result.kind) {
        case 'ok': {
          const token = app.jwt.sign({ sub: result.cardNo, role: 'citizen' });
          request.log.info({ card: maskCardNo(cardNo) }, 'citizen login');
          return { token, tokenType: 'Bearer' as const, expiresIn: tokenLifetimeSeconds };
        }
        case 'invalid-card':
          return sendProblem(reply, 400, '14', 'the card number is not valid (check digit); please check it');
        case 'address-limited':
          reply.header('retry-after', String(result.retryAfterSeconds));
          request.log.warn({ address: request.ip }, 'citizen login refused: too many failed logins from this address');
          return sendProblem(reply, 429, '65', `too many failed logins from this address (at most ${addressFailuresMax} in ${addressWindowMs / 60_000} minutes); retry in ${result.retryAfterSeconds} s`);
        case 'wrong-pin':
          return loginProblem(
            reply,
            401,
            '55',
            'incorrect PIN',
            `card number or PIN incorrect; ${result.triesLeft} ${result.triesLeft === 1 ? 'try' : 'tries'} left before login is locked for ${loginLockMs / 60_000} minutes`,
            { triesLeft: result.triesLeft },
          );
        case 'locked': {
          reply.header('retry-after', String(result.retryAfterSeconds));
          request.log.info({ card: maskCardNo(cardNo), justLocked: result.justLocked }, 'citizen login locked');
          return loginProblem(
            reply,
            423,
            '75',
            'PIN tries exceeded',
            `login is locked after ${loginTriesMax} wrong PINs until ${result.until.toISOString()}; try again later or ask at a service counter`,
            { lockedUntil: result.until.toISOString(), triesLeft: 0 },
          );
        }
      }
    },
  );

  app.get(
    '/v1/citizen/me',
    {
      preValidation: allow('citizen'),
      schema: {
        tags: ['citizen'],
        response: {
          200: Type.Object({
            cardNo: Type.String({ description: 'masked: first 4 and last 4 digits' }),
            last4: Type.String(),
            status: Type.String(),
            cardType: Type.String(),
            expiresOn: Type.String(),
            replaced: Type.Boolean(),
            purse: BalanceFen,
            medical: BalanceFen,
            holder: Type.Object({ name: Type.String({ description: 'masked' }), idNumber: Type.String({ description: 'masked' }), insured: Type.Boolean() }),
          }),
        },
      },
    },
    async (request, reply) => {
      const me = await citizen.me(cardOf(request));
      if (!me) return sendProblem(reply, 404, '14', 'card not found');
      return { ...me, purse: fen(me.purse), medical: fen(me.medical) };
    },
  );

  app.get(
    '/v1/citizen/transactions',
    {
      preValidation: allow('citizen'),
      schema: {
        tags: ['citizen'],
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
            cursor: Type.Optional(Cursor),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(TransactionItem), nextCursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const limit = Math.max(1, Math.min(Number(request.query.limit ?? '20'), citizenHistoryMax));
      return citizen.transactions(cardOf(request), limit, request.query.cursor ? BigInt(request.query.cursor) : null);
    },
  );

  app.post(
    '/v1/citizen/report-loss',
    {
      preValidation: [allow('citizen'), noBodyAsEmpty],
      schema: {
        tags: ['citizen'],
        body: Type.Object({}, { additionalProperties: false, description: 'empty, or no body at all' }),
        response: { 200: Type.Object({ cardNo: Type.String(), status: Type.String(), changed: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      const cardNo = cardOf(request);
      const result = await citizen.reportLoss(cardNo);
      if (!result) return sendProblem(reply, 404, '14', 'card not found');
      if (result.changed) request.log.info({ card: maskCardNo(cardNo) }, 'card reported lost by its citizen');
      return { cardNo: maskCardNo(cardNo), status: result.status, changed: result.changed };
    },
  );

  // Retired: it credited a purse on the citizen's JWT alone (money from nothing). Top-ups from the
  // citizen side are orders now (topup-orders.ts); this answers 410 and moves nothing.
  app.post(
    '/v1/citizen/topup',
    {
      preValidation: allow('citizen'),
      schema: { tags: ['citizen'], deprecated: true, description: 'Gone: create a top-up order (POST /v1/citizen/topup-orders) instead.', response: { 410: Problem } },
    },
    async (_request, reply) => sendProblem(reply, 410, Code.invalidTransaction, 'gone: a citizen cannot top up directly; create a top-up order (POST /v1/citizen/topup-orders) and pay at the kiosk or bank'),
  );
};
