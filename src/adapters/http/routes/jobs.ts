// Nightly jobs over HTTP (DESIGN §5, §8): run a job for a business date on demand, read a run's
// state and result, list the calendar; and the BullMQ dashboard (bull-board) at /admin/queues.
// Everything here is for the admin token; the dashboard also takes it once as `?token=` from a
// browser and then keeps a signed, expiring cookie scoped to /admin/queues.
import { offlineBullBoardViews } from './jobs-dashboard-offline.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';
import { isCalendarDate, isJobName, nightlyCalendar, previousBusinessDate, scheduleTimezone } from '../../../app/jobs/calendar.js';
import type { NightlyJobs } from '../../jobs/queue.js';
import type { Clock } from '../../../platform/clock.js';
import { sha256 } from '../../../platform/secrets.js';

const JobNameParam = Type.String({ pattern: '^[a-z-]{1,40}$', description: 'job name (DESIGN §8)' });
const BusinessDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'business date YYYY-MM-DD (the day runs 04:00–04:00 Asia/Shanghai)' });

export const jobsRoutes: FastifyPluginAsyncTypebox<{ jobs: NightlyJobs; clock: Clock }> = async (app, { jobs, clock }) => {
  app.addHook('preValidation', allow('admin'));

  app.get('/v1/admin/jobs', { schema: { tags: ['jobs'] } }, async () => {
    const schedulers = await jobs.queue.getJobSchedulers(0, -1, true).catch(() => []);
    const next = new Map(schedulers.map((s) => [s.key, s.next]));
    return {
      timezone: scheduleTimezone,
      jobs: nightlyCalendar.map((j) => {
        const nextMs = next.get(j.name);
        return { name: j.name, at: j.at, does: j.does, nextRunAt: nextMs ? new Date(nextMs).toISOString() : null };
      }),
    };
  });

  app.post(
    '/v1/admin/jobs/:name',
    {
      schema: {
        tags: ['jobs'],
        params: Type.Object({ name: JobNameParam }),
        body: Type.Object(
          {
            businessDate: Type.Optional(BusinessDate),
            rerun: Type.Optional(Type.Boolean({ description: 'run again although a run of this date exists (new jobId)' })),
          },
          { additionalProperties: false, description: 'businessDate defaults to the previous business date' },
        ),
        response: {
          202: Type.Object({ jobId: Type.String(), name: Type.String(), businessDate: Type.String(), created: Type.Boolean() }),
        },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (!isJobName(name)) return sendProblem(reply, 404, '12', `no job named ${name}`);
      const businessDate = request.body.businessDate ?? previousBusinessDate(clock.now());
      if (!isCalendarDate(businessDate)) return sendProblem(reply, 400, '30', `${businessDate} is not a calendar date`);
      const { jobId, created } = await jobs.enqueue(name, businessDate, { rerun: request.body.rerun === true });
      return reply.code(202).send({ jobId, name, businessDate, created });
    },
  );

  app.get(
    '/v1/admin/jobs/:name/:jobId',
    { schema: { tags: ['jobs'], params: Type.Object({ name: JobNameParam, jobId: Type.String({ minLength: 1, maxLength: 100 }) }) } },
    async (request, reply) => {
      const { name, jobId } = request.params;
      if (!isJobName(name)) return sendProblem(reply, 404, '12', `no job named ${name}`);
      const state = await jobs.state(name, jobId);
      if (!state) return sendProblem(reply, 404, '25', `no run ${jobId} of ${name}`);
      return state;
    },
  );
};

export const dashboardPath = '/admin/queues';
export const dashboardCookie = 'cc_jobs_dashboard';
export const dashboardSessionMs = 8 * 3600_000;

/** `<expiresAtMs>.<HMAC of it under the admin token>`: proves the token was shown, without holding it. */
function sessionValue(adminToken: string, expiresAtMs: number): string {
  return `${expiresAtMs}.${createHmac('sha256', adminToken).update(`jobs-dashboard:${expiresAtMs}`).digest('base64url')}`;
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function cookieOf(request: FastifyRequest, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function validSession(value: string | null, adminToken: string, nowMs: number): boolean {
  if (!value) return false;
  const expiresAtMs = Number(value.slice(0, value.indexOf('.')));
  return Number.isSafeInteger(expiresAtMs) && expiresAtMs > nowMs && sameSecret(value, sessionValue(adminToken, expiresAtMs));
}

/** bull-board at /admin/queues, behind the admin guard. */
export const jobsDashboard: FastifyPluginAsync<{ jobs: NightlyJobs; adminToken: string; clock: Clock }> = async (app, { jobs, adminToken, clock }) => {
  const guard = allow('admin');
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.caller?.type === 'admin') return;
    const nowMs = clock.now().getTime();
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string' && sameSecret(token, adminToken)) {
      // Keep the token out of the address bar and history: set the session cookie, then redirect.
      const expiresAtMs = nowMs + dashboardSessionMs;
      const url = new URL(request.url, 'http://dashboard.invalid');
      url.searchParams.delete('token');
      return reply
        .header('set-cookie', `${dashboardCookie}=${encodeURIComponent(sessionValue(adminToken, expiresAtMs))}; Path=${dashboardPath}; HttpOnly; SameSite=Strict; Max-Age=${dashboardSessionMs / 1000}`)
        .redirect(`${url.pathname}${url.search}`, 303);
    }
    if (validSession(cookieOf(request, dashboardCookie), adminToken, nowMs)) {
      request.caller = { type: 'admin' };
      return;
    }
    return guard(request, reply);
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(dashboardPath);
  createBullBoard({ queues: [new BullMQAdapter(jobs.queue)], serverAdapter, options: { uiConfig: { boardTitle: 'Citizen card jobs' } } });
  serverAdapter.setViewsPath(offlineBullBoardViews()); // no external fonts: works offline
  await app.register(serverAdapter.registerPlugin(), { prefix: dashboardPath });
};
