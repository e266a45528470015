// Privacy of the citizen, kiosk and console answers: no answer holds another citizen's full card
// number, an id number, a name in clear, or a PIN; the caller's own number appears at most in full.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, kiosk, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { citizenLogin, busRide, longDigitRuns, metroRide } from './citizen-support.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let kioskT: RegisteredTerminal;

interface Person {
  name: string;
  idNumber: string;
  pin: string;
  cardNo: string;
}
const alice: Person = { name: '张伟明', idNumber: '41010219850712345X', pin: '730519', cardNo: '' };
const bob: Person = { name: 'Robert Example', idNumber: '110105199001011234', pin: '284617', cardNo: '' };
let aliceNew = '';

/** Every answer collected, with the card number its caller may see in full (null: none). */
const answers: { what: string; own: string | null; body: string }[] = [];

function keep(what: string, own: string | null, res: LightMyRequestResponse): LightMyRequestResponse {
  answers.push({ what, own, body: `${JSON.stringify(res.headers)}\n${res.body}` });
  return res;
}

async function register(p: Person, balance: number): Promise<string> {
  const citizen = await sys.http.inject({ method: 'POST', url: '/v1/admin/citizens', headers: admin, payload: { name: p.name, idNumber: p.idNumber, insured: true } });
  const card = await sys.http.inject({ method: 'POST', url: '/v1/admin/cards', headers: admin, payload: { citizenId: citizen.json().citizenId, cardType: 'adult', pin: p.pin } });
  const cardNo = card.json().cardNo as string;
  await sys.http.inject({ method: 'POST', url: '/v1/topups', headers: admin, payload: { topupId: `init-${cardNo}`, cardNo, amount: balance, channel: 'bank' } });
  await sys.http.inject({ method: 'POST', url: `/v1/admin/medical-accounts/${cardNo}/credit`, headers: admin, payload: { creditId: `init-${cardNo}`, amount: 5000 } });
  return cardNo;
}

let seq = 0;
const pay = (cardNo: string, amount: number) => sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: `pv-${++seq}`, cardNo, amount } });

async function citizenAnswers(cardNo: string, pin: string): Promise<void> {
  const login = keep(`login ${cardNo.slice(-4)}`, cardNo, await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin } }));
  const auth = { authorization: `Bearer ${login.json().token}` };
  keep('me', cardNo, await sys.http.inject({ method: 'GET', url: '/v1/citizen/me', headers: auth }));
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res = keep('transactions', cardNo, await sys.http.inject({ method: 'GET', url: `/v1/citizen/transactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: auth }));
    cursor = res.json().nextCursor;
    if (!cursor) break;
  }
  const order = keep('topup order', cardNo, await sys.http.inject({ method: 'POST', url: '/v1/citizen/topup-orders', headers: auth, payload: { amount: 100 } }));
  keep('topup confirm', cardNo, await sys.http.inject({ method: 'POST', url: `/v1/topup-orders/${order.json().orderId}/confirm`, headers: kioskT.headers, payload: { amount: 100 } }));
  keep('topup order read', cardNo, await sys.http.inject({ method: 'GET', url: `/v1/citizen/topup-orders/${order.json().orderId}`, headers: auth }));
  keep('own balance', cardNo, await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: auth }));
  keep('own card transactions', cardNo, await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/transactions?limit=100`, headers: auth }));
  keep("another's balance", cardNo, await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo === bob.cardNo ? alice.cardNo : bob.cardNo}/balance`, headers: auth }));
  keep('unknown route', cardNo, await sys.http.inject({ method: 'GET', url: `/v1/citizen/${bob.cardNo}`, headers: auth }));
}

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  kioskT = await kiosk(sys.http);
  alice.cardNo = await register(alice, 8000);
  bob.cardNo = await register(bob, 6000);
  for (const p of [alice, bob]) {
    expect((await pay(p.cardNo, 250)).json().approved).toBe(true);
    await busRide(sys, p.cardNo, 'B2');
    await metroRide(sys, p.cardNo, 'L1-01', 'L1-09');
  }
  // Alice loses her card and gets a new one: the move's ledger reference is the old number.
  const auth = await citizenLogin(sys.http, alice.cardNo, alice.pin);
  keep('report-loss', alice.cardNo, await sys.http.inject({ method: 'POST', url: '/v1/citizen/report-loss', headers: auth }));
  aliceNew = (await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${alice.cardNo}/replace`, headers: admin, payload: {} })).json().cardNo;
  expect(aliceNew).toMatch(/^\d{16}$/);
  await pay(aliceNew, 100);

  await citizenAnswers(aliceNew, alice.pin);
  await citizenAnswers(alice.cardNo, alice.pin);
  await citizenAnswers(bob.cardNo, bob.pin);

  // Login refusals name nobody.
  keep('wrong PIN', null, await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo: bob.cardNo, pin: '000000' } }));
  for (let i = 0; i < 5; i++) await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo: bob.cardNo, pin: '000001' }, remoteAddress: '10.1.1.1' });
  keep('locked', null, await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo: bob.cardNo, pin: bob.pin }, remoteAddress: '10.1.1.2' }));
  for (let i = 0; i < 10; i++) await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo: alice.cardNo, pin: '000002' }, remoteAddress: '10.1.1.3' });
  keep('rate limited', null, await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo: alice.cardNo, pin: alice.pin }, remoteAddress: '10.1.1.3' }));

  // Pages and their assets.
  for (const url of ['/kiosk', '/console', '/ui/js/kiosk.js', '/ui/js/console.js', '/ui/js/charts.js', '/ui/js/i18n.js', '/ui/js/api.js', '/ui/js/format.js', '/ui/ui.css', '/ui/kiosk.css', '/ui/console.css']) {
    const res = keep(url, null, await sys.http.inject({ method: 'GET', url }));
    expect(res.statusCode, url).toBe(200);
  }

  // The console, with a drifted card in the sample.
  await sys.redis.hset(sys.keys.cardState(bob.cardNo), 'pu', '1');
  for (const url of ['/v1/admin/stats', '/v1/admin/console/ridership', '/v1/admin/console/jobs', '/v1/admin/console/drift']) {
    const res = keep(url, null, await sys.http.inject({ method: 'GET', url, headers: admin }));
    expect(res.statusCode, url).toBe(200);
  }
  expect(answers.find((a) => a.what === '/v1/admin/console/drift')!.body).toContain('"ok":false');
  await sys.gate.forget(bob.cardNo);
}, 60_000);
afterAll(async () => sys.destroy());

describe('privacy of citizen, kiosk and console answers', () => {
  it('collected the answers it scans', () => {
    expect(answers.length).toBeGreaterThan(40);
    expect(answers.filter((a) => a.what === 'transactions').length).toBeGreaterThanOrEqual(5);
    // The new card's history holds the balance move whose ledger reference is the old card's number.
    const moved = answers.filter((a) => a.what === 'transactions' && a.own === aliceNew).some((a) => a.body.includes('card-replace'));
    expect(moved).toBe(true);
  });

  it('holds no 16-digit number other than the caller’s own card', () => {
    const leaks = answers.flatMap((a) => longDigitRuns(a.body).filter((n) => n !== a.own).map((n) => `${a.what} (caller …${a.own?.slice(-4) ?? 'none'}): …${n.slice(-4)}`));
    expect(leaks).toEqual([]);
  });

  it('holds no id number, no clear name and no PIN', () => {
    for (const a of answers) {
      for (const p of [alice, bob]) {
        expect(a.body, a.what).not.toContain(p.idNumber);
        expect(a.body, a.what).not.toContain(p.idNumber.slice(0, 17));
        expect(a.body, a.what).not.toContain(p.name);
        if (!a.what.startsWith('login')) expect(a.body, a.what).not.toContain(p.pin);
      }
    }
    const me = answers.find((a) => a.what === 'me' && a.own === aliceNew)!;
    expect(me.body).toContain('"name":"张*明"');
    expect(me.body).toContain('"idNumber":"410***********345X"');
  });

  it('the own card number is shown masked by the citizen calls (full only where the caller asked by it)', () => {
    const own = answers.filter((a) => a.own && ['me', 'transactions', 'topup', 'report-loss'].includes(a.what));
    for (const a of own) expect(a.body, a.what).not.toContain(a.own!);
  });

  it('the logs hold no PIN, id number or clear name', () => {
    const log = sys.logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const p of [alice, bob]) {
      expect(log).not.toContain(p.idNumber);
      expect(log).not.toContain(p.name);
      expect(log).not.toMatch(new RegExp(`"pin":"${p.pin}"`));
    }
    expect(log).not.toContain(alice.cardNo);
    expect(log).not.toContain(bob.cardNo);
    expect(log).not.toContain(aliceNew);
  });
});
