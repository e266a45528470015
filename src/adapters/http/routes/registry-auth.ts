// Callers of the registry and statistics routes: the admin token, or a department's API key
// (`ccd_…`, stored hashed) looked up here; a guard per route names who may call it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryCaller, RegistryService } from '../../../app/registry.js';
import { sendProblem } from '../problem.js';

export const departmentKeyLengthMax = 256;

export async function registryCallerOf(request: FastifyRequest, registry: RegistryService): Promise<RegistryCaller | null> {
  if (request.caller?.type === 'admin') return { type: 'admin' };
  const header = request.headers.authorization;
  if (!header || !header.startsWith('Bearer ')) return null;
  const token = header.slice('Bearer '.length).trim();
  if (!token.startsWith('ccd_') || token.length > departmentKeyLengthMax) return null;
  const department = await registry.departmentByApiKey(token);
  return department ? { type: 'department', department } : null;
}

/** The caller, or null after answering 401/403 when it is not one of `kinds`. */
export async function guard(request: FastifyRequest, reply: FastifyReply, registry: RegistryService, kinds: RegistryCaller['type'][]): Promise<RegistryCaller | null> {
  const caller = await registryCallerOf(request, registry);
  if (!caller) {
    await sendProblem(reply, 401, '63', 'missing or invalid bearer token');
    return null;
  }
  if (!kinds.includes(caller.type)) {
    await sendProblem(reply, 403, '58', `this call is not open to a ${caller.type} caller`);
    return null;
  }
  return caller;
}
