// Terminal PKI calls of DESIGN §13: the public CA certificate and CRL; enrolment by CSR or as a
// PKCS#12 and the terminal status (block / reactivate) for the back office (admin token).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TerminalPki } from '../../pki/terminal-pki.js';
import { csrCharsMax } from '../../pki/csr.js';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';

export const pkcs12PasswordCharsMin = 8;
export const pkcs12PasswordCharsMax = 128;

const TerminalParams = Type.Object({ terminalId: Type.String({ pattern: '^[A-Za-z0-9]{8}$' }) });

export interface PkiRouteOptions {
  pki: TerminalPki;
  /** Sets the status, revokes on block, and makes every process drop the terminal at once. */
  setStatus: (terminalId: string, status: 'active' | 'blocked') => Promise<{ found: boolean; revoked: string[] }>;
}

export const pkiRoutes: FastifyPluginAsyncTypebox<PkiRouteOptions> = async (app, { pki, setStatus }) => {
  app.get('/v1/pki/ca.pem', { schema: { tags: ['pki'], security: [] } }, async (_request, reply) =>
    reply.type('application/x-pem-file').header('cache-control', 'public, max-age=3600').send(pki.caPem),
  );

  app.get('/v1/pki/crl.pem', { schema: { tags: ['pki'], security: [] } }, async (_request, reply) =>
    reply.type('application/x-pem-file').header('cache-control', 'no-cache').send(await pki.crlPem()),
  );

  const refused = (reply: Parameters<typeof sendProblem>[0], kind: 'unknown-terminal' | 'blocked', terminalId: string) =>
    kind === 'unknown-terminal' ? sendProblem(reply, 404, '58', `no terminal ${terminalId}`) : sendProblem(reply, 409, '58', `terminal ${terminalId} is blocked: reactivate it before enrolling`);

  app.post(
    '/v1/admin/terminals/:terminalId/certificate',
    {
      preValidation: allow('admin'),
      schema: {
        tags: ['pki'],
        params: TerminalParams,
        body: Type.Object({ csr: Type.String({ minLength: 1, maxLength: csrCharsMax, description: 'PEM PKCS#10, subject CN = the terminal id, RSA ≥ 2048 bits' }) }, { additionalProperties: false }),
        response: {
          201: Type.Object({ certificate: Type.String(), caCertificate: Type.String(), serialNumber: Type.String(), notAfter: Type.String({ format: 'date-time' }) }),
        },
      },
    },
    async (request, reply) => {
      const { terminalId } = request.params;
      const result = await pki.enrol(terminalId, request.body.csr);
      if (result.kind === 'bad-csr') return sendProblem(reply, 400, '30', `bad CSR: ${result.reason}`);
      if (result.kind !== 'issued') return refused(reply, result.kind, terminalId);
      return reply.code(201).send({ certificate: result.certificate, caCertificate: result.caCertificate, serialNumber: result.serialNumber, notAfter: result.notAfter });
    },
  );

  app.post(
    '/v1/admin/terminals/:terminalId/pkcs12',
    {
      preValidation: allow('admin'),
      schema: {
        tags: ['pki'],
        params: TerminalParams,
        body: Type.Object({ password: Type.String({ minLength: pkcs12PasswordCharsMin, maxLength: pkcs12PasswordCharsMax }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ pkcs12: Type.String({ description: 'base64 PKCS#12: key, certificate, CA certificate' }), serialNumber: Type.String(), notAfter: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { terminalId } = request.params;
      const result = await pki.pkcs12(terminalId, request.body.password);
      if (result.kind !== 'issued') return refused(reply, result.kind, terminalId);
      return reply.code(201).send({ pkcs12: result.pkcs12, serialNumber: result.serialNumber, notAfter: result.notAfter });
    },
  );

  app.post(
    '/v1/admin/terminals/:terminalId/status',
    {
      preValidation: allow('admin'),
      schema: {
        tags: ['pki'],
        params: TerminalParams,
        body: Type.Object({ status: Type.Union([Type.Literal('active'), Type.Literal('blocked')]) }, { additionalProperties: false }),
        response: { 200: Type.Object({ terminalId: Type.String(), status: Type.String(), revoked: Type.Array(Type.String()) }) },
      },
    },
    async (request, reply) => {
      const { terminalId } = request.params;
      const { status } = request.body;
      const result = await setStatus(terminalId, status);
      if (!result.found) return sendProblem(reply, 404, '58', `no terminal ${terminalId}`);
      return reply.send({ terminalId, status, revoked: result.revoked });
    },
  );
};
