// The kiosk and console pages in a real browser (Debian Chromium through playwright-core) against
// the system on a real port: kiosk login on the keypad, balance, a top-up order confirmed by the
// kiosk terminal, language switch; the
// console with the admin token showing live data. Screenshots go to test-artifacts/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { maskCardNo } from '../../src/domain/card-number.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { chromiumArgs, ensureChromium } from '../browser/chromium.js';
import { busRide, metroRide } from './citizen-support.js';

const browserState = ensureChromium();
if (!browserState.ok) console.warn(`[citizen-browser] SKIPPED: ${browserState.reason}`);

const artifacts = path.resolve('test-artifacts');
/** Patience for the page under a loaded machine (the default poll gives up after 1 s). */
const ui = { timeout: 15_000, interval: 50 };
const pin = '864209';

function yuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}¥${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

describe.skipIf(!browserState.ok)('kiosk and console in Chromium', () => {
  let sys: TestSystem;
  let base: string;
  let browser: Browser;
  let pos: RegisteredTerminal;
  let kioskT: RegisteredTerminal;
  let cardNo: string;
  const pageErrors: string[] = [];

  async function purseOf(card: string): Promise<number> {
    const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${card}/balance`, headers: admin });
    return res.json().purse as number;
  }

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 820, height: 1180 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    return page;
  }

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    sys = await createTestSystem();
    base = await sys.http.listen({ port: 0, host: '127.0.0.1' });
    pos = await retailPos(sys.http);
    kioskT = await kiosk(sys.http);
    ({ cardNo } = await issueCard(sys.http, { pin, balance: 5000, medical: 20000 }));
    // Real traffic for the console: payments, a decline, rides on two routes, metro journeys.
    let n = 0;
    const pay = (card: string, amount: number) => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: `bp-${++n}`, cardNo: card, amount } });
    expect((await pay(cardNo, 350)).json().approved).toBe(true);
    const riders = await Promise.all(Array.from({ length: 10 }, () => issueCard(sys.http, { balance: 2000 })));
    for (const r of riders) await busRide(sys, r.cardNo, 'B2');
    for (const r of riders.slice(0, 2)) await busRide(sys, r.cardNo, 'B906');
    for (const r of riders.slice(0, 5)) await metroRide(sys, r.cardNo, 'L1-01', 'L1-09');
    await metroRide(sys, riders[5]!.cardNo, 'L1-03', 'L2-04');
    // 11 rides on B2: at least 6 in one hour even if the run straddles the hour.
    await busRide(sys, cardNo, 'B2');
    const broke = await issueCard(sys.http, { balance: 100 });
    expect((await pay(broke.cardNo, 5000)).json().code).toBe('51');
    // A nightly job's result for the console's jobs panel.
    const queued = await sys.http.inject({ method: 'POST', url: '/v1/admin/jobs/trial-balance', headers: admin, payload: { businessDate: businessDateOf(sys.clock.now()) } });
    expect(queued.statusCode, queued.body).toBe(202);
    const jobUrl = `/v1/admin/jobs/trial-balance/${encodeURIComponent(queued.json().jobId)}`;
    for (let waited = 0; (await sys.http.inject({ method: 'GET', url: jobUrl, headers: admin })).json().state !== 'completed'; waited += 50) {
      if (waited > 20_000) throw new Error('the trial-balance job did not complete in 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    browser = await chromium.launch({ executablePath: browserState.ok ? browserState.path : undefined, args: chromiumArgs });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.destroy();
  });

  it('kiosk: keypad login, balance and explained history, top-up, language switch, logout', async () => {
    const page = await newPage();
    await page.goto(`${base}/kiosk`);
    await expect.poll(() => page.locator('#login-title').textContent(), ui).toBe('请输入卡号和密码');
    for (const digit of cardNo) await page.click(`#keypad button[data-key="${digit}"]`);
    for (const digit of pin) await page.click(`#keypad button[data-key="${digit}"]`);
    expect(await page.locator('[data-testid=card-value]').textContent()).toBe(cardNo.replace(/(\d{4})(?=\d)/g, '$1 '));
    expect(await page.locator('[data-testid=pin-value]').textContent()).toBe('••••••');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-login.png') });
    await page.click('#login-btn');

    const before = await purseOf(cardNo);
    await expect.poll(() => page.locator('[data-testid=purse]').textContent(), ui).toBe(yuan(before));
    expect(await page.locator('[data-testid=card-masked]').textContent()).toBe(maskCardNo(cardNo));
    expect(await page.locator('[data-testid=medical]').textContent()).toBe(yuan(20000));
    await expect.poll(() => page.locator('[data-testid=explanation]').count(), ui).toBeGreaterThan(0);
    expect(await page.locator('#history > li[data-kind=payment]').count()).toBe(1);
    await page.screenshot({ path: path.join(artifacts, 'kiosk-account-zh.png'), fullPage: true });

    await page.click('#topup-open');
    await page.click('#amounts button[data-amount="2000"]');
    expect(await page.locator('[data-testid=topup-amount]').textContent()).toBe('¥20.00');
    await page.click('#topup-go');
    // The page made a pending order that moves nothing; the kiosk's cash acceptor confirms it with
    // the kiosk terminal's own key (the page never holds it), and the page sees it credited.
    await expect.poll(() => page.locator('[data-testid=topup-order]').textContent(), ui).toContain('订单号');
    const orderText = (await page.locator('[data-testid=topup-order]').textContent()) ?? '';
    const orderId = /[0-9a-f]{32}/.exec(orderText)?.[0];
    expect(orderId, orderText).toBeDefined();
    expect(await purseOf(cardNo)).toBe(before);
    const confirm = await sys.http.inject({ method: 'POST', url: `/v1/topup-orders/${orderId}/confirm`, headers: kioskT.headers, payload: { amount: 2000 } });
    expect(confirm.json(), confirm.body).toMatchObject({ approved: true, status: 'confirmed' });
    await expect.poll(() => page.locator('[data-testid=purse]').textContent(), ui).toBe(yuan(before + 2000));
    await expect.poll(() => page.locator('[data-testid=account-msg]').textContent(), ui).toContain('充值成功');
    expect(await page.locator('[data-testid=topup-order]').isVisible()).toBe(false);
    expect(await purseOf(cardNo)).toBe(before + 2000);
    const kioskTopups = await sys.pool.query(`SELECT detail->>'channel' AS channel, terminal_id FROM transfers WHERE op_kind = 'topup' AND card_no = $1 AND op_id LIKE '%order-%'`, [cardNo]);
    expect(kioskTopups.rows).toEqual([{ channel: 'kiosk', terminal_id: kioskT.terminalId }]);
    await expect.poll(() => page.locator('#history > li[data-kind=topup]').count(), ui).toBe(2);

    await page.click('[data-testid=lang-toggle]');
    await expect.poll(() => page.locator('#account-title').textContent(), ui).toContain('Hello');
    expect(await page.locator('[data-i18n=purse]').textContent()).toBe('Purse balance');
    expect(await page.locator('[data-testid=account-msg]').textContent()).toContain('Topped up ¥20.00');
    expect(await page.locator('#history > li[data-kind=topup] .what').first().textContent()).toContain('Top-up');
    expect(await page.locator('[data-testid=lang-toggle]').textContent()).toBe('中文');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-account-en.png'), fullPage: true });

    // The token lives in page memory only: nothing is left in the browser's storage.
    expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    await page.click('#logout');
    await expect.poll(() => page.locator('#login-title').isVisible(), ui).toBe(true);
    expect(await page.locator('[data-testid=purse]').isVisible()).toBe(false);

    // A wrong PIN (typed on a keyboard this time) is told in the chosen language with the tries left.
    await page.keyboard.type(`${cardNo}000000`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid=login-msg]').textContent(), ui).toContain('4 tries left');
    await page.close();
    // The browser logs the wrong PIN's 401 as a failed resource; anything else is a page error.
    expect(pageErrors.filter((e) => !e.includes('status of 401'))).toEqual([]);
  });

  it('console: admin token, live authorizations, decline codes, ridership, OD matrix, drift, trial balance, jobs', async () => {
    const page = await newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${base}/console`);
    await page.fill('[data-testid=admin-token]', adminToken);
    await page.click('#connect-btn');
    await expect.poll(() => page.locator('#panels').isVisible(), ui).toBe(true);

    // Traffic while the console watches: the per-second chart and counters move.
    const card = await issueCard(sys.http, { balance: 100_000 });
    let n = 0;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      await Promise.all(Array.from({ length: 20 }, () => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: `live-${++n}`, cardNo: card.cardNo, amount: 1 } })));
    }
    await expect.poll(async () => Number(await page.locator('[data-testid=kpi-approved]').textContent()), ui).toBeGreaterThanOrEqual(n);
    await expect.poll(() => page.locator('[data-testid=rate-chart] canvas').count(), ui).toBe(1); // uPlot draws on a canvas
    expect(await page.locator('[data-testid=codes-chart]').textContent()).toContain('51 insufficient funds');
    expect(Number(await page.locator('[data-testid=kpi-declined]').textContent())).toBeGreaterThanOrEqual(1);

    await expect.poll(() => page.locator('[data-testid=drift-badge]').textContent(), ui).toBe('in agreement');
    await expect.poll(() => page.locator('[data-testid=tb-badge]').textContent(), ui).toBe('balanced');
    const riders = (await page.locator('[data-testid=riders-chart]').textContent()) ?? '';
    expect(riders).toContain('B2');
    expect(riders).toContain('B906');
    expect(riders).toContain('<5'); // two rides on B906: not shown
    // The chart's figures are in its table for screen readers (the chart itself is a canvas).
    const shown = (await page.locator('[data-testid=riders-chart] table.sr-only td').allTextContents()).filter((t) => /^\d+$/.test(t)).map(Number);
    expect(Math.max(0, ...shown)).toBeGreaterThanOrEqual(6);
    const od = (await page.locator('[data-testid=od-chart]').textContent()) ?? '';
    expect(od).toContain('L1-01');
    expect(od).toContain('L1-09');
    const jobs = (await page.locator('[data-testid=jobs]').textContent()) ?? '';
    expect(jobs).toContain('trial-balance');
    expect(jobs).toContain('completed');
    expect(await page.evaluate("sessionStorage.getItem('citizen-card.adminToken')")).toBe(adminToken);
    await page.waitForTimeout(1200); // one more sample on the chart
    await page.screenshot({ path: path.join(artifacts, 'console.png'), fullPage: true });

    // Reloading the tab keeps the session (sessionStorage); a wrong token is refused.
    await page.reload();
    await expect.poll(() => page.locator('#panels').isVisible(), ui).toBe(true);
    await page.click('#disconnect');
    await page.fill('[data-testid=admin-token]', 'not-the-token');
    await page.click('#connect-btn');
    await expect.poll(() => page.locator('[data-testid=console-msg]').textContent(), ui).toContain('refused');
    expect(await page.locator('#panels').isVisible()).toBe(false);
    await page.close();
    expect(pageErrors.filter((e) => !e.includes('status of 401'))).toEqual([]);
  });
});
