// The HTTP server: plugins (security headers, OpenAPI, metrics, back-pressure, auth) and the
// route plugins of each area. Every request body is validated against its TypeBox schema.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Registry as PromRegistry, register as processRegistry } from 'prom-client';
import type { TLSSocket } from 'node:tls';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import jwt from '@fastify/jwt';
import metrics from 'fastify-metrics';
import type { Logger } from '../../platform/logger.js';
import type { Metrics, RefusalReason } from '../../platform/metrics.js';
import { operationOf, recordDecision } from './decisions.js';
import type { Registry } from '../postgres/registry.js';
import { authPlugin, type TerminalDirectory } from './auth.js';
import { sendProblem } from './problem.js';
import { enrichOpenApi } from './openapi/enrich.js';
import { isDependencyDown } from '../../platform/dependency-errors.js';
import { adminRoutes } from './routes/admin.js';
import { moneyRoutes } from './routes/money.js';
import { pinAdminRoutes } from './routes/pin-admin.js';
import { cardRoutes } from './routes/cards.js';
import { healthRoutes, type HealthChecks } from './routes/health.js';
import type { AdminService } from '../../app/admin.js';
import type { MoneyService } from '../../app/money.js';
import type { CardQueries } from '../../app/card-queries.js';
import { maskCardNo } from '../../domain/card-number.js';

export const bodyBytesMax = 1024 * 1024;
const citizenLoginUrl = '/v1/citizen/login';
/** Status of a failed login → reason label: bad input or card, wrong PIN, locked, too many attempts. */
const loginFailureReasons: Record<number, string> = { 400: 'invalid', 401: 'pin', 423: 'locked', 429: 'limited' };
const misnamedDefaultGauges = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
/** Retry-After of a 503 while a dependency is down. */
export const dependencyRetryAfterSeconds = 1;

export interface HttpDeps {
  logger: Logger;
  /** Business metrics; served at /metrics with the process and HTTP metrics. */
  metrics: Metrics;
  adminToken: string;
  jwtSecret: string;
  terminals: TerminalDirectory;
  registry: Registry;
  admin: AdminService;
  money: MoneyService;
  cards: CardQueries;
  health: HealthChecks;
  /** Event-loop delay above which requests are refused with 503 (back-pressure). */
  maxEventLoopDelayMs?: number;
  /** The terminal of an HTTPS client certificate (the PKI area's mTLS gate). */
  tlsTerminalOf?: (socket: TLSSocket) => Promise<string | null>;
  /** TERMINAL_TLS_ONLY=1: terminal API keys refused on the plain port. */
  terminalTlsOnly?: boolean;
  /** Extra route plugins registered by other areas (transit, medical, citizen, jobs, pages). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    loggerInstance: deps.logger,
    bodyLimit: bodyBytesMax,
    requestIdHeader: 'x-request-id',
    // One line per request is written by the onResponse hook below, with the caller and status.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  };
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('businessMetrics', deps.metrics);
  // A refusal before the handler: an authorization route's answer is counted as its decision (91).
  const countRefusal = (request: FastifyRequest, reply: FastifyReply, reason: RefusalReason) => {
    if (operationOf(request)) recordDecision(reply, '91', 'http', true, reason);
    else deps.metrics.refused('http', reason);
  };

  await app.register(helmet, { contentSecurityPolicy: false });
  await app.register(jwt, { secret: deps.jwtSecret, sign: { expiresIn: '15m' } });
  await app.register(underPressure, {
    maxEventLoopDelay: deps.maxEventLoopDelayMs ?? 1000,
    retryAfter: 1,
    exposeStatusRoute: false,
    pressureHandler: (request, reply) => {
      countRefusal(request, reply, 'pressure');
      void sendProblem(reply, 503, '91', 'server overloaded, retry later');
    },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Citizen card API', version: '1.0.0', description: 'Authorization core, ledger and terminal API of the citizen card (DESIGN §5).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Summaries, descriptions, examples, error answers and named components (src/adapters/http/openapi).
    transformObject: (documentObject) => enrichOpenApi({ openapiObject: (documentObject as { openapiObject: Record<string, unknown> }).openapiObject }) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Process and per-route HTTP metrics (fastify-metrics, prom-client's default registry) and the
  // business metrics (the system's own registry) on one page.
  await app.register(metrics.default ?? metrics, { endpoint: null, clearRegisterOnInit: true, routeMetrics: { enabled: { histogram: true, summary: false } } } as never);
  // prom-client's gauges that carry a counter's `_total` suffix (Prometheus naming, `promtool check
  // metrics`); the same numbers are in nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
  for (const name of misnamedDefaultGauges) processRegistry.removeSingleMetric(name);
  app.get(
    '/metrics',
    { logLevel: 'fatal', schema: { tags: ['operations'], summary: 'Prometheus metrics', description: 'Prometheus text exposition: process, HTTP and business metrics (docs/operations.md, "Metrics").', security: [] } },
    async (_request, reply) => {
      const merged = PromRegistry.merge([processRegistry, deps.metrics.registry]);
      return reply.type(merged.contentType).send(await merged.metrics());
    },
  );
  await app.register(authPlugin, {
    adminToken: deps.adminToken,
    registry: deps.registry,
    terminals: deps.terminals,
    ...(deps.tlsTerminalOf ? { tlsTerminalOf: deps.tlsTerminalOf } : {}),
    terminalTlsOnly: deps.terminalTlsOnly ?? false,
  });

  // Calls whose body is `{}` (reverse, cancel, replace, report-loss) are also accepted with no
  // body at all, or an empty one sent as JSON; malformed JSON stays a 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: bodyBytesMax }, (_request, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, {});
    try {
      const parsed: unknown = JSON.parse(body, (key, value: unknown) => (key === '__proto__' ? undefined : value));
      done(null, parsed);
    } catch (error) {
      const failure = error as Error & { statusCode?: number };
      failure.statusCode = 400;
      done(failure, undefined);
    }
  });
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number; code?: string }, request, reply) => {
    if (error.validation) {
      if (operationOf(request)) recordDecision(reply, '30');
      return sendProblem(reply, 400, '30', error.message);
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // Malformed JSON, wrong content type, body too large.
      return sendProblem(reply, error.statusCode, '30', error.message);
    }
    const url = request.url.replace(/\d{16,19}/g, (m) => maskCardNo(m));
    if (isDependencyDown(error)) {
      request.log.error({ err: error, url }, 'request failed: dependency down');
      reply.header('retry-after', String(dependencyRetryAfterSeconds));
      return sendProblem(reply, 503, '91', 'a dependency (Redis or PostgreSQL) is unreachable: nothing was done, retry later');
    }
    request.log.error({ err: error, url }, 'request failed');
    return sendProblem(reply, 500, '96', 'internal error');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, '12', `no route ${request.method} ${request.url.split('?')[0]!.replace(/\d{16,19}/g, (m) => maskCardNo(m))}`));

  // Money and card calls wait for startup recovery: until then Redis may disagree with the ledger.
  // With Redis disconnected they are refused at once (a queued command would stall for seconds and
  // then fail as 96); ioredis reconnects by itself and the calls are served again.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/') || request.url.startsWith('/v1/pki/')) return;
    if (!deps.health.recovered()) {
      countRefusal(request, reply, 'starting');
      return sendProblem(reply, 503, '91', 'starting: recovery not finished');
    }
    if (!deps.health.redisReady()) {
      countRefusal(request, reply, 'overload');
      reply.header('retry-after', String(dependencyRetryAfterSeconds));
      return sendProblem(reply, 503, '91', 'Redis is unreachable: nothing was done, retry later');
    }
  });

  // Failed citizen logins by how they failed, counted from the login's answer (docs/citizen.md).
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== citizenLoginUrl) return;
    const reason = loginFailureReasons[reply.statusCode];
    if (reason) deps.metrics.loginFailures.inc({ reason });
  });

  app.addHook('onResponse', async (request, reply) => {
    const terminalId = request.caller?.type === 'terminal' ? request.caller.terminal.terminalId : undefined;
    // Successful calls log at debug (thousands a second); refusals and errors at info.
    request.log[reply.statusCode >= 400 ? 'info' : 'debug'](
      {
        method: request.method,
        url: request.routeOptions.url ?? 'unknown',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        terminalId,
        caller: request.caller?.type,
      },
      'request',
    );
  });

  await app.register(healthRoutes, { checks: deps.health });
  await app.register(adminRoutes, { admin: deps.admin });
  await app.register(moneyRoutes, { money: deps.money });
  await app.register(pinAdminRoutes, { money: deps.money });
  await app.register(cardRoutes, { cards: deps.cards });
  for (const plugin of deps.plugins ?? []) await plugin(app);
  return app;
}
