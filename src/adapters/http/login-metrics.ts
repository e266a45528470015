// Prometheus metrics of the citizen login (on /metrics): failures counted by this process, and the
// fleet-wide failures of the last window with an alarm above a named threshold (PIN spraying from
// many addresses, which the per-address limit alone does not see).
import type { FastifyInstance } from 'fastify';
import type { Counter, Gauge } from 'prom-client';
import type { Clock } from '../../platform/clock.js';

/** Failed citizen logins across all addresses per login window above which the alarm is raised. */
export const loginFailuresAlarmMax = 200;

export interface LoginMetrics {
  failure(reason: 'wrong-pin' | 'locked' | 'address-limited'): void;
}

export function registerLoginMetrics(app: FastifyInstance, inWindow: (now: Date) => Promise<number>, clock: Clock): LoginMetrics {
  const client = app.metrics.client;
  const registry = client.register;
  // A second system in one process (tests) finds the metrics of the first on the shared registry.
  for (const name of ['citizen_login_failures_total', 'citizen_login_failures_window', 'citizen_login_failure_alarm']) registry.removeSingleMetric(name);
  const failures: Counter<'reason'> = new client.Counter({
    name: 'citizen_login_failures_total',
    help: 'Failed citizen logins answered by this process, by reason (wrong-pin, locked, address-limited)',
    labelNames: ['reason'],
  });
  // Both gauges read the shared count when scraped, so every process reports the fleet's figure.
  const windowGauge: Gauge = new client.Gauge({
    name: 'citizen_login_failures_window',
    help: 'Failed citizen logins across all addresses and processes in the last 10 minutes',
    async collect() {
      this.set(await inWindow(clock.now()).catch(() => Number.NaN));
    },
  });
  void windowGauge;
  new client.Gauge({
    name: 'citizen_login_failure_alarm',
    help: `1 when citizen_login_failures_window exceeds ${loginFailuresAlarmMax} (PIN spraying across addresses), else 0`,
    async collect() {
      const n = await inWindow(clock.now()).catch(() => 0);
      this.set(n > loginFailuresAlarmMax ? 1 : 0);
    },
  });
  return { failure: (reason) => failures.inc({ reason }) };
}
