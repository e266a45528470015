// Transit calls of bus validators, metro gates and taxi meters (DESIGN §5): a tap, an offline
// upload, and the hotlist delta. Declines are 200 with `approved: false`; malformed requests 400.
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { TransitService, TapAnswer } from '../../../app/transit.js';
import { tapsPerUploadMax } from '../../../app/transit.js';
import { terminalMay } from '../../../domain/permissions.js';
import { allow, terminalOf } from '../auth.js';
import { AmountFen, ClientId, Code, fen } from '../schemas.js';
import { sendProblem } from '../problem.js';
import { recordDecision } from '../decisions.js';

const LooseCardNo = Type.String({ pattern: '^[0-9]{1,19}$', description: 'card number (unknown or Luhn-invalid numbers are declined with 14)' });

const TapBody = Type.Object(
  {
    tapId: ClientId,
    cardNo: LooseCardNo,
    tappedAt: Type.String({ maxLength: 40, description: 'RFC 3339 date-time with a zone; at most 5 minutes ahead of the server clock' }),
    direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')], { description: 'metro gates only' })),
    amount: Type.Optional(AmountFen),
  },
  { additionalProperties: false },
);
/** One record of an offline upload has the shape of a tap (checked one by one, in the OpenAPI as OfflineTap). */
export const OfflineTapSchema = TapBody;

const TapReply = Type.Object({
  approved: Type.Boolean(),
  code: Code,
  fare: Type.Integer({ description: 'fen charged for this tap (0 for a tap-in, a transfer or a capped ride)' }),
  balance: Type.Optional(Type.Integer({ description: 'purse after the tap, fen' })),
  journeyId: Type.Union([Type.String(), Type.Null()], { description: 'metro: the journey this tap opened or ended' }),
  explanation: Type.Optional(Type.Array(Type.String(), { description: 'the fare rules applied, in order' })),
  reason: Type.Optional(Type.String()),
});

function tapReply(a: TapAnswer): Static<typeof TapReply> {
  const approved = a.status === 'accepted';
  return {
    approved,
    code: a.code,
    fare: fen(a.fareFen),
    ...(a.balanceFen !== null ? { balance: fen(a.balanceFen) } : {}),
    journeyId: a.journeyId,
    ...(approved ? { explanation: a.explanation } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
  };
}

export const transitRoutes: FastifyPluginAsyncTypebox<{ transit: TransitService }> = async (app, { transit }) => {
  app.post(
    '/v1/taps',
    { config: { operation: 'tap' }, preValidation: allow('terminal'), schema: { tags: ['transit'], body: TapBody, response: { 200: TapReply } } },
    async (request, reply) => {
      const result = await transit.tap(terminalOf(request)!, request.body);
      if (result.kind === 'invalid') {
        recordDecision(reply, '30');
        return sendProblem(reply, 400, '30', result.reason);
      }
      if (result.answer.status === 'conflict') {
        recordDecision(reply, '94');
        return sendProblem(reply, 409, '94', 'this tapId was used before with different content');
      }
      recordDecision(reply, result.answer.code);
      return reply.code(200).send(tapReply(result.answer));
    },
  );

  app.post(
    '/v1/taps/batch',
    {
      config: { operation: 'tap' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['transit'],
        // Records are checked one by one (a malformed one is rejected with 30, the rest go on).
        body: Type.Object(
          {
            taps: Type.Array(Type.Unknown(), { description: `offline taps, at most ${tapsPerUploadMax}` }),
            hotlistVersion: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the hotlist version the validator holds at upload: taps of a card listed after it are charged' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Object({
                tapId: Type.Union([Type.String(), Type.Null()]),
                status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('rejected')]),
                code: Code,
                fare: Type.Integer(),
                reason: Type.Optional(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async (request, reply) => {
      const taps = request.body.taps;
      if (taps.length > tapsPerUploadMax) return sendProblem(reply, 400, '30', `an upload holds at most ${tapsPerUploadMax} taps (tapsPerUploadMax); this one has ${taps.length}`);
      const hotlistVersion = request.body.hotlistVersion;
      const results = await transit.upload(terminalOf(request)!, taps, hotlistVersion === undefined ? {} : { hotlistVersion: BigInt(hotlistVersion) });
      // Each tap's answer is a decision of the batch channel; the upload's time is one latency.
      for (const r of results) recordDecision(reply, r.code, 'batch', false);
      reply.server.businessMetrics.authorizationSeconds.observe({ channel: 'batch' }, reply.elapsedTime / 1000);
      return reply.code(200).send({ results: results.map((r) => ({ tapId: r.tapId, status: r.status, code: r.code, fare: fen(r.fareFen), ...(r.reason ? { reason: r.reason } : {}) })) });
    },
  );

  app.get(
    '/v1/hotlist',
    {
      preValidation: allow('terminal', 'admin'),
      schema: {
        tags: ['transit'],
        querystring: Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'the version the reader holds (0: everything)' })) }),
        response: {
          200: Type.Object({
            version: Type.Integer(),
            changes: Type.Array(Type.Object({ cardNo: Type.String(), listed: Type.Boolean(), reason: Type.String() })),
            more: Type.Boolean({ description: 'more changes after `version`: ask again with since=version' }),
          }),
        },
      },
    },
    async (request, reply) => {
      const terminal = terminalOf(request);
      if (terminal && !terminalMay(terminal, 'hotlist')) return sendProblem(reply, 403, '58', `a ${terminal.kind} terminal does not read the hotlist`);
      const page = await transit.hotlist(BigInt(request.query.since ?? '0'));
      return reply.code(200).send({ version: fen(page.version), changes: page.changes.map((c) => ({ cardNo: c.cardNo, listed: c.listed, reason: c.reason })), more: page.more });
    },
  );
};
