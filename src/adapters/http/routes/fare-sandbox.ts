// Fare-policy sandbox routes (admin, DESIGN §14): submit a draft policy for a business day, then
// poll the job for its progress and the comparison with the policy in force.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FareSandbox } from '../../../app/fare-sandbox.js';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';

const BusinessDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the business day whose taps are re-rated' });
const Policy = Type.Object({}, { additionalProperties: true, description: 'a draft fare policy in the JSON shape of data/demo-network.json' });

export const fareSandboxRoutes: FastifyPluginAsyncTypebox<{ sandbox: FareSandbox }> = async (app, { sandbox }) => {
  app.post(
    '/v1/admin/fare-sandbox',
    {
      preHandler: allow('admin'),
      schema: { tags: ['fare sandbox'], body: Type.Object({ businessDate: BusinessDate, policy: Policy }, { additionalProperties: false }), response: { 202: Type.Object({ jobId: Type.String() }) } },
    },
    async (request, reply) => {
      const r = await sandbox.submit(request.body.businessDate, request.body.policy);
      if (!r.ok) return sendProblem(reply, 400, '30', r.detail);
      return reply.code(202).send({ jobId: r.jobId });
    },
  );

  app.get(
    '/v1/admin/fare-sandbox/:jobId',
    { preHandler: allow('admin'), schema: { tags: ['fare sandbox'], params: Type.Object({ jobId: Type.String({ format: 'uuid' }) }) } },
    async (request, reply) => {
      const job = await sandbox.view(request.params.jobId);
      if (!job) return sendProblem(reply, 404, '25', 'no such sandbox job');
      return job;
    },
  );
};
