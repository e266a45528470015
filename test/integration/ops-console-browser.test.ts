// The operations console in Chromium against real traffic: its per-channel table shows every
// answer (declines before the authorizer too) exactly as /v1/admin/stats and /metrics count them;
// an h1, a link to the jobs dashboard, phone width without sideways scrolling, and a clear message
// when the API cannot be reached. Screenshots (desktop and phone) go to var/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos } from '../support/fixtures.js';
import { bus, postTap, tapId, upload } from './transit-helpers.js';
import { chromiumArgs, ensureChromium } from '../browser/chromium.js';

const browserState = ensureChromium();
if (!browserState.ok) console.warn(`[ops-console-browser] SKIPPED: ${browserState.reason}`);
const shots = path.resolve('var');
const ui = { timeout: 15_000, interval: 100 };

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
