// Request errors as application/problem+json (RFC 9457) carrying a response code of DESIGN §4.
import type { FastifyReply } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { codeMeaning, responseCodes, type ResponseCode } from '../../domain/codes.js';
import { assert } from '../../platform/assert.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
  },
  { $id: 'Problem' },
);

/** A problem answer; the title is the code's meaning unless one is given (e.g. "not found", "conflict"). */
export function sendProblem(reply: FastifyReply, status: number, code: ResponseCode | string, detail?: string, title?: string): FastifyReply {
  title ??= (codeMeaning as Record<string, string>)[code] ?? 'error';
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, code, ...(detail ? { detail } : {}) });
}

/** A request refused with a code: the status is the code's, from the one table (domain/codes.ts). */
export function sendCodeProblem(reply: FastifyReply, code: ResponseCode, detail?: string, title?: string): FastifyReply {
  const status = responseCodes[code].httpStatus;
  assert(status >= 400, `code ${code} is a business result, not a problem`);
  return sendProblem(reply, status, code, detail, title);
}

/** A lookup that found nothing: 404, with the code saying what was not found (14 card, 25 transaction). */
export function sendNotFound(reply: FastifyReply, code: ResponseCode, detail?: string): FastifyReply {
  return sendProblem(reply, 404, code, detail);
}
