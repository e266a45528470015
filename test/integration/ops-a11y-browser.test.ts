// Accessibility in Chromium: axe-core finds no serious or critical problem on the kiosk (zh and en)
// and the connected console; the kiosk's login works from the keyboard alone (Tab through the fields,
// digits, Enter submits) and its language button is named by its text. Screenshots go to var/.
// (bypassCSP: the pages' Content-Security-Policy refuses injected scripts, axe-core among them.)
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { issueCard } from '../support/fixtures.js';
import { chromiumArgs, ensureChromium } from '../browser/chromium.js';

const browserState = ensureChromium();
if (!browserState.ok) console.warn(`[ops-a11y-browser] SKIPPED: ${browserState.reason}`);
const shots = path.resolve('var');
const ui = { timeout: 15_000, interval: 100 };
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousFindings(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe.skipIf(!browserState.ok)('accessibility in Chromium', () => {
  let sys: TestSystem;
  let base: string;
  let browser: Browser;
  let cardNo: string;
  const pin = '246801';

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    sys = await createTestSystem();
    base = await sys.http.listen({ port: 0, host: '127.0.0.1' });
    ({ cardNo } = await issueCard(sys.http, { pin, balance: 3000 }));
    browser = await chromium.launch({ executablePath: browserState.ok ? browserState.path : undefined, args: chromiumArgs });
  });
  afterAll(async () => {
    await browser?.close();
    await sys?.destroy();
  });

  it('kiosk: no serious or critical axe finding in zh and en; the language button is named by its text', async () => {
    const page = await browser.newPage({ viewport: { width: 820, height: 1180 }, bypassCSP: true });
    await page.goto(`${base}/kiosk`);
    expect(await page.getByRole('button', { name: 'English', exact: true }).count()).toBe(1);
    expect(await seriousFindings(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'kiosk-zh.png'), fullPage: true });
    await page.click('[data-testid=lang-toggle]');
    await expect.poll(() => page.getByRole('button', { name: '中文', exact: true }).count(), ui).toBe(1);
    expect(await page.getAttribute('[data-testid=lang-toggle]', 'lang')).toBe('zh');
    expect(await seriousFindings(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'kiosk-en.png'), fullPage: true });
    await page.close();
  });

  it('kiosk: Tab reaches the card field, then the PIN field; digits type into the focused field; Enter logs in', async () => {
    const page = await browser.newPage({ viewport: { width: 820, height: 1180 }, bypassCSP: true });
    await page.goto(`${base}/kiosk?lang=en`);
    const focused = () => page.evaluate('document.activeElement && document.activeElement.id');
    const order: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order.slice(0, 3)).toEqual(['lang', 'field-card', 'field-pin']);
    // Back to the card field, type the number; focus then moves on with Tab to the PIN field.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('field-card');
    expect(await page.getAttribute('#field-card', 'aria-pressed')).toBe('true');
    await page.keyboard.type(cardNo);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('field-pin');
    expect(await page.getAttribute('#field-pin', 'aria-pressed')).toBe('true');
    await page.keyboard.type(pin);
    expect(await page.locator('[data-testid=pin-value]').textContent()).toBe('••••••');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#account').isVisible(), ui).toBe(true);
    expect(await seriousFindings(page)).toEqual([]);
    await page.close();
  });

  it('console: no serious or critical axe finding, before and after connecting', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
    await page.goto(`${base}/console`);
    expect(await seriousFindings(page)).toEqual([]);
    await page.fill('[data-testid=admin-token]', adminToken);
    await page.click('#connect-btn');
    await expect.poll(() => page.locator('#panels').isVisible(), ui).toBe(true);
    await page.waitForTimeout(500);
    expect(await seriousFindings(page)).toEqual([]);
    await page.close();
  });
});
