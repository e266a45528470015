// Hole 6 of the security review (docs/security.md "PINs and citizen login"): one address trying one
// PIN on many cards. At most 20 failed logins per address per 10 minutes across cards (429/65),
// shared by every API process through Redis; the per-card lock stays; a fleet-wide alarm metric.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard } from '../support/fixtures.js';
import { fixedClock } from '../../src/platform/clock.js';
import { buildSystem, type System } from '../../src/system.js';
import { createLogger } from '../../src/platform/logger.js';
import { cardNoFromSerial } from '../../src/domain/card-number.js';
import { addressFailuresMax, addressWindowMs, loginTriesMax } from '../../src/app/citizen.js';
import { loginFailuresAlarmMax } from '../../src/adapters/http/login-metrics.js';

const clock = fixedClock(new Date());
let sys: TestSystem;
let second: System;
const sprayPin = '123456';

beforeAll(async () => {
  sys = await createTestSystem({ clock });
  // A second API process on the same database and Redis (same key prefix), as behind a load balancer.
  second = await buildSystem(sys.config, { clock, logger: createLogger('silent') });
  await second.start();
}, 60_000);
afterAll(async () => {
  await second?.close();
  await sys.destroy();
});

const login = (app: System['http'], cardNo: string, pin: string, ip: string) => app.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin }, remoteAddress: ip });

let serial = 900_000n;
const unknownCard = () => cardNoFromSerial((serial += 1n));

async function metric(name: string): Promise<string[]> {
  const res = await sys.http.inject({ method: 'GET', url: '/metrics' });
  return res.body.split('\n').filter((l) => l.startsWith(name));
}

describe('PIN spraying from one address', () => {
  it('one PIN on 30 cards from one address: 20 are checked, the rest 429/65, and a card with that PIN is not opened', async () => {
    const ip = '203.0.113.7';
    const cards = await Promise.all(Array.from({ length: 30 }, (_, i) => issueCard(sys.http, { pin: i === 25 ? sprayPin : '864213', balance: 100 })));
    const answers = [];
    // Alternating between the two processes: the budget is the address's, not a process's.
    for (const [i, c] of cards.entries()) answers.push(await login(i % 2 === 0 ? sys.http : second.http, c.cardNo, sprayPin, ip));
    expect(answers.slice(0, addressFailuresMax).map((a) => a.statusCode)).toEqual(Array(addressFailuresMax).fill(401));
    for (const a of answers.slice(addressFailuresMax)) {
      expect(a.statusCode).toBe(429);
      expect(a.json().code).toBe('65');
      expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(answers[25]!.json().token).toBeUndefined();
    // The refused tries did not count against those cards (their owners are not locked out).
    const guarded = await sys.pool.query(`SELECT count(*)::int AS n FROM citizen_login_guard WHERE card_no = ANY($1)`, [cards.slice(addressFailuresMax).map((c) => c.cardNo)]);
    expect(guarded.rows[0].n).toBe(0);
    // Another address is not affected: the owner of card 25 logs in.
    expect((await login(sys.http, cards[25]!.cardNo, sprayPin, '198.51.100.25')).statusCode).toBe(200);
    // Nothing moved.
    const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
  });

  it('50 concurrent guesses on 50 cards from one address check at most 20 PINs', async () => {
    const ip = '203.0.113.8';
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => login(i % 2 ? sys.http : second.http, unknownCard(), sprayPin, ip)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(addressFailuresMax);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50 - addressFailuresMax);
  });

  it('right PINs do not use the budget, and the window ends after 10 minutes', async () => {
    const ip = '203.0.113.9';
    // Three cards (the per-card limit of 10 a minute per address is a separate, older guard).
    const cards = await Promise.all([0, 1, 2].map(() => issueCard(sys.http, { pin: '975310' })));
    for (let i = 0; i < addressFailuresMax + 5; i++) expect((await login(i % 2 ? second.http : sys.http, cards[i % 3]!.cardNo, '975310', ip)).statusCode).toBe(200);
    for (let i = 0; i < addressFailuresMax; i++) expect((await login(second.http, unknownCard(), sprayPin, ip)).statusCode).toBe(401);
    expect((await login(sys.http, unknownCard(), sprayPin, ip)).statusCode).toBe(429);
    const { cardNo } = await issueCard(sys.http, { pin: '975310' });
    expect((await login(sys.http, cardNo, '975310', ip)).statusCode).toBe(429); // the address is refused, right PIN or not
    clock.advance(addressWindowMs + 1000);
    expect((await login(sys.http, cardNo, '975310', ip)).statusCode).toBe(200);
    expect((await login(sys.http, unknownCard(), sprayPin, ip)).statusCode).toBe(401);
  });

  it('keeps the per-card lock: 5 wrong PINs from 5 addresses lock the card (423/75)', async () => {
    const { cardNo } = await issueCard(sys.http, { pin: '135799' });
    const answers = [];
    for (let i = 0; i < loginTriesMax; i++) answers.push(await login(i % 2 ? second.http : sys.http, cardNo, '000000', `192.0.2.${i + 1}`));
    expect(answers.at(-1)!.statusCode).toBe(423);
    expect(answers.at(-1)!.json().code).toBe('75');
    expect((await login(sys.http, cardNo, '135799', '192.0.2.99')).statusCode).toBe(423);
  });
});

describe('the fleet-wide alarm on /metrics', () => {
  it('counts failures by reason and raises the alarm when failures across addresses pass the threshold', async () => {
    clock.advance(addressWindowMs + 60_000); // a fresh window: earlier tests' failures have aged out
    expect(await metric('citizen_login_failure_alarm')).toContain('citizen_login_failure_alarm 0');
    // Spread over many addresses so that no single address is limited: only the alarm sees it.
    const addresses = Math.ceil((loginFailuresAlarmMax + 1) / addressFailuresMax);
    for (let a = 0; a < addresses; a++) {
      const ip = `10.9.${a}.1`;
      const answers = await Promise.all(Array.from({ length: addressFailuresMax }, (_, i) => login(i % 2 ? second.http : sys.http, unknownCard(), sprayPin, ip)));
      expect(answers.every((r) => r.statusCode === 401)).toBe(true);
    }
    const window = await metric('citizen_login_failures_window');
    expect(Number(window.find((l) => !l.startsWith('citizen_login_failures_window{'))?.split(' ')[1])).toBeGreaterThan(loginFailuresAlarmMax);
    expect(await metric('citizen_login_failure_alarm')).toContain('citizen_login_failure_alarm 1');
    // The second process reports the same fleet-wide figure.
    const other = await second.http.inject({ method: 'GET', url: '/metrics' });
    expect(other.body).toContain('citizen_login_failure_alarm 1');
    const counted = await metric('citizen_login_failures_total{reason="wrong-pin"}');
    expect(Number(counted[0]?.split(' ')[1])).toBeGreaterThan(0);
    expect(await metric('citizen_login_failures_total{reason="address-limited"}')).toHaveLength(1);
    expect(sys.logLines.some((l) => l.includes('citizen login failure alarm'))).toBe(true);
  }, 120_000);
});
