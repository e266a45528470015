// The operations console in Chromium against real traffic: its per-channel table shows every
// answer (declines before the authorizer too) exactly as /v1/admin/stats and /metrics count them;
// an h1, a link to the jobs dashboard, phone width without sideways scrolling, and a clear message
// when the API cannot be reached; uPlot charts (canvas, legends) of the live rate, ridership and OD;
// the clearing results as a table after a real clearing run, and its settlement file downloaded.
// Screenshots (desktop and phone) go to var/.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos } from '../support/fixtures.js';
import { bus, postTap, tapId, upload } from './transit-helpers.js';
import { chromiumArgs, ensureChromium } from '../browser/chromium.js';
import { busRide, metroRide } from './citizen-support.js';
import { runJob } from './jobs-support.js';
import { businessDateOf } from '../../src/domain/business-day.js';

const browserState = ensureChromium();
if (!browserState.ok) console.warn(`[ops-console-browser] SKIPPED: ${browserState.reason}`);
const shots = path.resolve('var');
const ui = { timeout: 15_000, interval: 100 };
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

describe.skipIf(!browserState.ok)('operations console in Chromium', () => {
  let sys: TestSystem;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    sys = await createTestSystem();
    base = await sys.http.listen({ port: 0, host: '127.0.0.1' });
    const pos = await retailPos(sys.http);
    const validator = await bus(sys.http);
    const rich = await issueCard(sys.http, { balance: 5000 });
    const poor = await issueCard(sys.http, { balance: 100 });
    const pay = (cardNo: string, amount: number, paymentId: string) => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId, cardNo, amount } });
    await pay(rich.cardNo, 300, 'cb-1');
    await pay(poor.cardNo, 5000, 'cb-2'); // 51
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await postTap(sys.http, validator, { tapId: tapId('c'), cardNo: rich.cardNo, tappedAt: ago(20) });
    await postTap(sys.http, validator, { tapId: tapId('c'), cardNo: rich.cardNo, tappedAt: ago(19.5) }); // 65
    await postTap(sys.http, validator, { tapId: tapId('c'), cardNo: '6200000000000001', tappedAt: ago(19) }); // 14
    await upload(sys.http, validator, [{ tapId: tapId('u'), cardNo: poor.cardNo, tappedAt: new Date(Date.now() - 3_600_000).toISOString() }, { tapId: 'bad' }]);
    // Enough riders for the ridership and OD charts to publish (cells under 5 are suppressed).
    for (let i = 0; i < 6; i++) {
      const { cardNo } = await issueCard(sys.http, { balance: 5000 });
      await busRide(sys, cardNo, 'B2');
      await metroRide(sys, cardNo, 'L1-01', 'L1-09');
    }
    browser = await chromium.launch({ executablePath: browserState.ok ? browserState.path : undefined, args: chromiumArgs });
  });
  afterAll(async () => {
    await browser?.close();
    await sys?.destroy();
  });

  it('shows every answer by channel as the API counts it, with an h1 and the jobs dashboard link; works at phone width', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/console`);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('h1').textContent()).toContain('Operations console');
    await page.fill('[data-testid=admin-token]', adminToken);
    await page.click('#connect-btn');
    await expect.poll(() => page.locator('[data-testid=channels] tr[data-key]').count(), ui).toBeGreaterThan(3);

    const stats = (await sys.http.inject({ method: 'GET', url: '/v1/admin/stats', headers: admin })).json() as { channels: { channel: string; operation: string; code: string; count: number }[] };
    const shown = async () =>
      Object.fromEntries(
        await page.locator('[data-testid=channels] tr[data-key]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-key'), Number(r.lastElementChild?.textContent)])),
      );
    await expect.poll(shown, ui).toEqual(Object.fromEntries(stats.channels.map((r) => [`${r.channel}|${r.operation}|${r.code}`, r.count])));
    const keys = Object.keys(await shown());
    for (const k of ['http|tap|65', 'http|tap|14', 'http|payment|51', 'batch|tap|30']) expect(keys).toContain(k);
    expect(await page.getAttribute('[data-testid=jobs-link]', 'href')).toBe(`/admin/queues?token=${encodeURIComponent(adminToken)}`);
    await page.screenshot({ path: path.join(shots, 'console-desktop.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = (await page.evaluate(
      `(() => { const over = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll')).map((e) => e.tagName + '#' + e.id + '.' + e.className); return [document.documentElement.scrollWidth - window.innerWidth, over.slice(0, 5)]; })()`,
    )) as [number, string[]];
    expect(overflow, overflow[1].join(' ')).toEqual([0, []]);
    await page.screenshot({ path: path.join(shots, 'console-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the charts with uPlot (canvas, axes, legends), shows the clearing as a table and downloads the settlement file', async () => {
    const day = businessDateOf(new Date());
    const run = await runJob(sys, 'clearing', day);
    expect(run.state, run.error ?? '').toBe('completed');
    const csv = await readFile(path.join(sys.config.reportsDir, `clearing-${day}.csv`), 'utf8');

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors: string[] = [];
    const outside: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !/^(data|blob):/.test(r.url())) outside.push(r.url());
    });
    await page.goto(`${base}/console`);
    await page.fill('[data-testid=admin-token]', adminToken);
    await page.click('#connect-btn');
    const legends: Record<string, string[]> = {
      'rate-chart': ['approved / s', 'declined / s'],
      'codes-chart': ['answers since start'],
      'riders-chart': ['B2'],
      'od-chart': ['journeys'],
    };
    for (const [chart, words] of Object.entries(legends)) {
      await expect.poll(() => page.locator(`[data-testid=${chart}] canvas`).count(), ui).toBe(1);
      const legend = await page.locator(`[data-testid=${chart}] .u-legend`).innerText(); // what is seen, not hidden text
      for (const w of words) expect(legend, chart).toContain(w);
      // The canvas is drawn inside its panel, not wider.
      const fits = await page.evaluate(`(() => { const box = document.querySelector('[data-testid=${chart}]'); const c = box.querySelector('canvas').getBoundingClientRect(); return c.width > 100 && c.right <= box.getBoundingClientRect().right + 1; })()`);
      expect(fits, chart).toBe(true);
    }

    // The clearing table: every party row of the settlement file, amounts in yuan from its fen.
    await expect.poll(() => page.locator('[data-testid=clearing-table] tr[data-party]').count(), ui).toBeGreaterThan(0);
    const yuanOf = (fen: string) => `${fen.startsWith('-') ? '-' : ''}¥${Math.trunc(Math.abs(Number(fen)) / 100)}.${String(Math.abs(Number(fen)) % 100).padStart(2, '0')}`;
    const fileRows = csv.trim().split('\n').slice(1).map((l) => l.split(',')).filter((f) => f[1] !== 'TOTAL');
    const shownRows = await page.locator('[data-testid=clearing-table] tr[data-party]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-party'), ...[...r.children].slice(1).map((c) => c.textContent)]));
    expect(shownRows).toEqual(fileRows.map((f) => [`${f[1]}:${f[2]}`, f[4], yuanOf(f[7]!), yuanOf(f[9]!), yuanOf(f[10]!)]));
    const merchant = fileRows.find((f) => f[1] === 'merchant');
    expect(merchant?.[7]).toBe('300'); // the approved payment cb-1 of ¥3.00
    expect(await page.locator('[data-testid=clearing-table] th').allTextContents()).toEqual(expect.arrayContaining(['party', 'count', 'gross', 'commission', 'net', 'total']));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=clearing-file]')]);
    expect(download.suggestedFilename()).toBe(`clearing-${day}.csv`);
    expect(await readFile(await download.path(), 'utf8')).toBe(csv);

    // One date/time format: the jobs panel's times are YYYY-MM-DD HH:mm:ss.
    await expect.poll(() => page.locator('[data-testid=jobs] td').count(), ui).toBeGreaterThan(0);
    const times = (await page.locator('[data-testid=jobs] td').allTextContents()).filter((t) => /\d{2}:\d{2}/.test(t) && !t.startsWith('{'));
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await page.screenshot({ path: path.join(shots, 'console-charts-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    for (const chart of Object.keys(legends)) {
      const fits = await page.evaluate(`(() => { const box = document.querySelector('[data-testid=${chart}]'); const c = box.querySelector('canvas').getBoundingClientRect(); return c.right <= window.innerWidth && c.width > 200; })()`);
      expect(fits, chart).toBe(true);
    }
    await page.screenshot({ path: path.join(shots, 'console-charts-phone.png'), fullPage: true });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();

    // axe-core on the console with its charts and clearing table drawn (bypassCSP: axe is an injected script).
    const audit = await browser.newPage({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
    await audit.goto(`${base}/console`);
    await audit.fill('[data-testid=admin-token]', adminToken);
    await audit.click('#connect-btn');
    await expect.poll(() => audit.locator('[data-testid=clearing-table] tr[data-party]').count(), ui).toBeGreaterThan(0);
    await expect.poll(() => audit.locator('.chart-box canvas').count(), ui).toBe(4);
    await audit.addScriptTag({ path: axePath });
    const violations = (await audit.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as { id: string; impact: string | null; nodes: { target: string[] }[] }[];
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await audit.close();
  });

  it('says the server cannot be reached, not "HTTP 0", and recovers when it answers again', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${base}/console`);
    await page.fill('[data-testid=admin-token]', adminToken);
    await page.click('#connect-btn');
    await expect.poll(() => page.locator('#panels').isVisible(), ui).toBe(true);
    await page.route('**/v1/admin/**', (route) => route.abort('connectionrefused'));
    await expect.poll(() => page.locator('[data-testid=console-msg]').textContent(), ui).toContain('cannot be reached');
    expect(await page.locator('[data-testid=console-msg]').textContent()).not.toContain('HTTP 0');
    await page.unroute('**/v1/admin/**');
    await expect.poll(() => page.locator('[data-testid=console-msg]').textContent(), ui).toContain('Connected again');
    await page.close();
  });

  it('the jobs dashboard (bull-board) loads with no request leaving this machine (no external fonts)', async () => {
    const html = await sys.http.inject({ method: 'GET', url: '/admin/queues', headers: admin });
    expect(html.statusCode).toBe(200);
    expect(html.body).not.toMatch(/fonts\.googleapis|fonts\.gstatic/);
    expect(html.body).toContain('static/css/');
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    await page.goto(`${base}/admin/queues?token=${encodeURIComponent(adminToken)}`);
    await expect.poll(() => page.locator('text=nightly').count(), ui).toBeGreaterThan(0);
    expect(page.url()).toBe(`${base}/admin/queues`); // the token left the address bar
    expect(outside).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'jobs-dashboard.png') });
    await page.close();
  });
});
