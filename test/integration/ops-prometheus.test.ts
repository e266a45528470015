// The Prometheus side: the alerting rules pass `promtool check rules`, a real /metrics scrape after
// traffic passes `promtool check metrics`, and every metric the rules and the Grafana dashboard use
// is one the server exposes. promtool comes from Debian's `prometheus` package (scripts/test.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos } from '../support/fixtures.js';
import { at, bus, postTap, tapId } from './transit-helpers.js';

const promtool = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const rulesFile = 'ops/prometheus/alerts.yml';
const dashboardFile = 'ops/grafana/citizen-card.json';

let sys: TestSystem;
beforeAll(async () => {
  if (!existsSync(promtool)) throw new Error(`${promtool} is missing: apt-get install prometheus (scripts/test.sh does it as root)`);
  sys = await createTestSystem();
});
afterAll(async () => sys?.destroy());

/** Metric names used by PromQL expressions (series selectors, without recording rules' own names). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(cc_[a-z_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

describe('Prometheus', () => {
  it('the alerting rules pass promtool check rules', () => {
    const out = execFileSync(promtool, ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('a real scrape passes promtool check metrics, and exposes every metric the rules and the dashboard use', async () => {
    const pos = await retailPos(sys.http);
    const validator = await bus(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'prom-1', cardNo, amount: 100 } });
    await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'prom-2', cardNo, amount: 100_000 } });
    await postTap(sys.http, validator, { tapId: tapId('p'), cardNo, tappedAt: at('07:00') });
    const page = (await sys.http.inject({ method: 'GET', url: '/metrics' })).body;

    const check = spawnSync(promtool, ['check', 'metrics'], { input: page, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);

    const exposed = new Set([...page.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const rules = readFileSync(rulesFile, 'utf8');
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const used = new Set([...metricNames(rules), ...dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)))]);
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(exposed, name).toContain(name);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });

  it('a broken rules file fails the check (the check is real)', () => {
    const bad = spawnSync(promtool, ['check', 'rules', '/dev/stdin'], { input: 'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: rate(cc_x[5m]\n', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });
});
