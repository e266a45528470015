// Counts an authorization answer of an HTTP route where it is sent: the route names its operation
// in `config.operation`; the answer's code and the request's time so far go to the metrics.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Channel, Metrics, RefusalReason } from '../../platform/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    businessMetrics: Metrics;
  }
  interface FastifyContextConfig {
    /** The authorization operation of a money route (payment, topup, tap…); its answers are counted. */
    operation?: string;
  }
}

/** The operation of the request's route, or null when the route is not an authorization. */
export function operationOf(request: FastifyRequest): string | null {
  return request.routeOptions?.config?.operation ?? null;
}

/** Counts one answer; `latency: false` for the items of an upload (the upload's time is counted once). */
export function recordDecision(reply: FastifyReply, code: string, channel: Channel = 'http', latency = true, refusal?: RefusalReason): void {
  const operation = operationOf(reply.request) ?? reply.request.routeOptions?.url ?? 'unknown';
  reply.server.businessMetrics.decision(channel, operation, code, latency ? reply.elapsedTime / 1000 : undefined, refusal);
}
