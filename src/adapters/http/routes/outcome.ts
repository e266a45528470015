// Turns a money command's outcome into the HTTP answer: approvals and declines are 200 with
// `approved` and `code`; a reused id with other content is 409; a command refused because the
// ledger queue is full (code 91) is 503 with retry-after, as overload is (DESIGN §4).
import type { FastifyReply } from 'fastify';
import type { MoneyOutcome, MoneyReply } from '../../../app/authorizer.js';
import { Code, responseCodes } from '../../../domain/codes.js';
import { sendCodeProblem } from '../problem.js';
import { recordDecision } from '../decisions.js';

export const overloadRetryAfterSeconds = 1;

export function outcomeReply(
  reply: FastifyReply,
  outcome: MoneyOutcome,
  shape: (stored: MoneyReply) => Record<string, unknown>,
  declineExtra: Record<string, unknown> = {},
): FastifyReply {
  recordDecision(reply, outcome.kind === 'conflict' ? Code.duplicateDifferent : outcome.kind === 'approved' ? Code.approved : outcome.code);
  if (outcome.kind === 'conflict') return sendCodeProblem(reply, Code.duplicateDifferent, 'this id was used before with different content');
  if (outcome.kind === 'approved') return reply.code(200).send({ approved: true, code: Code.approved, ...shape(outcome.reply) });
  if (responseCodes[outcome.code].authorization === 'problem') {
    // Nothing was decided (the table's 'problem' codes on an authorization call: 91 overload).
    if (responseCodes[outcome.code].httpStatus === 503) reply.header('retry-after', String(overloadRetryAfterSeconds));
    return sendCodeProblem(reply, outcome.code, 'overloaded: nothing was done, retry later');
  }
  return reply.code(200).send({ approved: false, code: outcome.code, ...declineExtra });
}
