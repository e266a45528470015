// The nightly calendar (DESIGN §8): which jobs exist, when each runs (cron in Asia/Shanghai, after
// the 04:00 business-day cut-over), and how a run is named. Pure: no I/O, no clock.
import { businessDateOf } from '../../domain/business-day.js';
import { ConfigError } from '../../platform/config.js';

export const scheduleTimezone = 'Asia/Shanghai';

/**
 * In run order. One queue with one worker of concurrency 1 takes them first-in first-out, so a
 * job starts only after the one scheduled before it has finished (clearing sees the fares that
 * close-journeys charged; the hotlist sees the debt they made).
 */
export const nightlyCalendar = [
  { name: 'close-journeys', at: '04:10', does: 'open metro journeys of the day get the maximum fare from their entry station' },
  { name: 'clearing', at: '04:20', does: 'per operator and merchant: count, gross, commission, net; settlement CSV; receivable/payable → settlement and fees' },
  { name: 'reconcile-terminals', at: '04:30', does: 'terminal batch totals (ISO 0500, validator daily totals) against the ledger; missing, extra, wrong-amount transactions' },
  { name: 'medical-claims', at: '04:40', does: "the fund's claim file of the day's medical settlements and cancels" },
  { name: 'hotlist', at: '04:50', does: 'cards in debt listed / cleared; versioned hotlist file with the delta since the previous one' },
  { name: 'trial-balance', at: '05:00', does: 'all balances sum to zero; every stored balance equals the sum of its postings' },
  { name: 'redis-drift', at: '05:10', does: "cached purse/medical in Redis against the ledger; drifted cards dropped from the cache" },
  { name: 'ridership', at: '05:20', does: 'boardings per route, station and hour; metro origin–destination matrix; cells under 5 riders suppressed' },
] as const;

export type JobName = (typeof nightlyCalendar)[number]['name'];

export const jobNames: readonly JobName[] = nightlyCalendar.map((j) => j.name);

export function isJobName(name: string): name is JobName {
  return (jobNames as readonly string[]).includes(name);
}

/** Cron pattern (minute hour * * *) of a job's daily run, read in `scheduleTimezone`. */
export function cronPattern(at: string): string {
  const [hour, minute] = at.split(':');
  return `${Number(minute)} ${Number(hour)} * * *`;
}

/** A real calendar date written YYYY-MM-DD (2024-02-30 is not one). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The business date a nightly run at `at` works on: the day that closed at the last 04:00. */
export function previousBusinessDate(at: Date): string {
  return addDays(businessDateOf(at), -1);
}

/**
 * A run's job id. BullMQ refuses custom ids with a single ':' (it reserves the form for its own
 * scheduler ids), so the parts are joined with '@': `clearing@2024-05-01` for the run of a date,
 * `clearing@2024-05-01@r2` for the second run asked for on demand.
 */
export function runJobId(name: JobName, businessDate: string, runNo = 1): string {
  return runNo <= 1 ? `${name}@${businessDate}` : `${name}@${businessDate}@r${runNo}`;
}

export function parseRunJobId(jobId: string): { name: string; businessDate: string; runNo: number } | null {
  const m = /^([a-z-]+)@(\d{4}-\d{2}-\d{2})(?:@r(\d{1,6}))?$/.exec(jobId);
  if (!m) return null;
  return { name: m[1]!, businessDate: m[2]!, runNo: m[3] ? Number(m[3]) : 1 };
}

/**
 * Whether this process installs the nightly schedulers: JOBS_SCHEDULERS=1|0; by default yes, except
 * under the test runner, where a suite running across 04:10 must not get nightly runs in its test
 * databases (tests run jobs on demand, or call schedule() themselves).
 */
export function schedulersWanted(env: Record<string, string | undefined>): boolean {
  const value = env.JOBS_SCHEDULERS;
  if (value === '1') return true;
  if (value === '0') return false;
  if (value !== undefined && value !== '') throw new ConfigError('JOBS_SCHEDULERS', 'must be 0 or 1');
  return !env.VITEST;
}
