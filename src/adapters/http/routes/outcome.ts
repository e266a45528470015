// Turns a money command's outcome into the HTTP answer: approvals and declines are 200 with
// `approved` and `code`; a reused id with other content is 409.
import type { FastifyReply } from 'fastify';
import type { MoneyOutcome } from '../../../app/authorizer.js';
import { codeHttpStatus } from '../../../domain/codes.js';
import { sendProblem } from '../problem.js';

export function outcomeReply(
  reply: FastifyReply,
  outcome: MoneyOutcome,
  shape: (stored: Record<string, unknown>) => Record<string, unknown>,
  declineExtra: Record<string, unknown> = {},
): FastifyReply {
  if (outcome.kind === 'conflict') return sendProblem(reply, 409, '94', 'this id was used before with different content');
  if (outcome.kind === 'approved') return reply.code(200).send({ approved: true, code: '00', ...shape(outcome.reply) });
  if (outcome.code === '91' && codeHttpStatus['91']) {
    reply.header('retry-after', '1');
  }
  return reply.code(200).send({ approved: false, code: outcome.code, ...declineExtra });
}
