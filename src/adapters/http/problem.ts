// Request errors as application/problem+json (RFC 9457) carrying a response code of DESIGN §4.
import type { FastifyReply } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { codeMeaning, type ResponseCode } from '../../domain/codes.js';

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
