// Business metrics against real PostgreSQL, Redis, HTTP and TCP: a mix of approved and declined
// traffic (taps, payments, an offline upload, ISO 8583) is counted code by code exactly as it was
// answered, and the console's counts and /metrics agree with each other and with the answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { bus, postTap, tapId, upload } from './transit-helpers.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import { luhnCheckDigit } from '../../src/domain/card-number.js';
import { runJob } from './jobs-support.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let validator: RegisteredTerminal;
let kioskTerminal: RegisteredTerminal;
let client: IsoClient;

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  validator = await bus(sys.http);
  kioskTerminal = await kiosk(sys.http);
  client = await IsoClient.connect('127.0.0.1', sys.iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

type Key = string; // channel|operation|code
const key = (channel: string, operation: string, code: string): Key => `${channel}|${operation}|${code}`;

/** Parses one counter of a Prometheus text page into label-set → value. */
function counterOf(page: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of page.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} ([0-9.e+]+)$`).exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.set(Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','), Number(m[2]));
  }
  return out;
}

async function scrape(): Promise<string> {
  const res = await sys.http.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
}

async function decisionsFromMetrics(): Promise<Map<Key, number>> {
  const out = new Map<Key, number>();
  for (const [labels, value] of counterOf(await scrape(), 'cc_authorizations_total')) {
    const l = Object.fromEntries(labels.split(',').map((kv) => kv.split('=') as [string, string]));
    out.set(key(l.channel!, l.operation!, l.code!), value);
  }
  return out;
}

type Stats = { totals: { code: string; count: number }[]; channels: { channel: string; operation: string; code: string; count: number }[]; approved: number; declined: number };
async function consoleStats(): Promise<Stats> {
  const res = await sys.http.inject({ method: 'GET', url: '/v1/admin/stats', headers: admin });
  expect(res.statusCode).toBe(200);
  return res.json() as Stats;
}

function delta(after: Map<Key, number>, before: Map<Key, number>): Map<Key, number> {
  const out = new Map<Key, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) !== 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

/** A Luhn-valid 16-digit number that no card has. */
function unknownCard(): string {
  const body = `62009999${String(Date.now() % 1e7).padStart(7, '0')}`;
  return body + luhnCheckDigit(body);
}

describe('authorization metrics', () => {
  it('count every answer sent, by channel, operation and code; the console and /metrics agree', async () => {
    const rich = await issueCard(sys.http, { balance: 5000 });
    const poor = await issueCard(sys.http, { balance: 100 });
    const rider = await issueCard(sys.http, { balance: 2000 });
    const offline = await issueCard(sys.http, { balance: 2000 });
    const sent = new Map<Key, number>();
    const saw = (channel: string, operation: string, code: string) => sent.set(key(channel, operation, code), (sent.get(key(channel, operation, code)) ?? 0) + 1);
    const before = await decisionsFromMetrics();
    const consoleBefore = await consoleStats();

    // HTTP taps: approved, anti-passback (65), unknown and Luhn-invalid cards (14), a kiosk tapping (58).
    // Recent times: taps far in the past are refused by the upload and tap windows.
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const taps = [
      [validator, rider.cardNo, ago(20)],
      [validator, rider.cardNo, ago(19.5)],
      [validator, unknownCard(), ago(19)],
      [validator, '6200000000000001', ago(18)],
      [kioskTerminal, rider.cardNo, ago(10)],
    ] as const;
    for (const [terminal, cardNo, when] of taps) {
      const res = await postTap(sys.http, terminal, { tapId: tapId('m'), cardNo, tappedAt: when });
      saw('http', 'tap', res.json().code as string);
    }
    // A tap that is not one (bad time) is a 400 with code 30.
    const bad = await postTap(sys.http, validator, { tapId: tapId('m'), cardNo: rider.cardNo, tappedAt: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    saw('http', 'tap', bad.json().code as string);

    // HTTP payments: approved, insufficient funds, unknown card, a reused id with other content (409/94), a zero amount (400/30).
    let seq = 0;
    const pay = async (cardNo: string, amount: number, paymentId = `mp-${++seq}`) => {
      const res = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId, cardNo, amount } });
      saw('http', 'payment', res.json().code as string);
      return res;
    };
    expect((await pay(rich.cardNo, 300, 'mp-same')).json().code).toBe('00');
    expect((await pay(rich.cardNo, 300, 'mp-same')).json().code).toBe('00'); // a replay is an answer too
    expect((await pay(poor.cardNo, 5000)).json().code).toBe('51');
    expect((await pay(unknownCard(), 100)).json().code).toBe('14');
    expect((await pay(rich.cardNo, 400, 'mp-same')).statusCode).toBe(409);
    expect((await pay(rich.cardNo, 0)).statusCode).toBe(400);

    // An offline upload: accepted, a duplicate within the upload, a malformed record, an unknown card.
    // Within the offline window (offlineUploadDaysMax): an hour ago.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const first = { tapId: tapId('u'), cardNo: offline.cardNo, tappedAt: hourAgo };
    const up = await upload(sys.http, validator, [first, first, { tapId: 'x' }, { tapId: tapId('u'), cardNo: unknownCard(), tappedAt: hourAgo }]);
    expect(up.statusCode).toBe(200);
    const results = up.json().results as { status: string; code: string }[];
    for (const r of results) saw('batch', 'tap', r.code);
    expect(new Set(results.map((r) => r.status)), up.body).toEqual(new Set(['accepted', 'duplicate', 'rejected']));

    // ISO 8583: approved purchase, insufficient funds, wrong MAC (63), and an echo (not an authorization).
    let stan = 500;
    const f7 = transmissionDateTime(new Date());
    const iso = async (cardNo: string, amount: number, mak = pos.mak) => {
      const fields = new Map<number, FieldValue>([
        [2, cardNo],
        [3, '000000'],
        [4, amountField(BigInt(amount))],
        [7, f7],
        [11, String(++stan).padStart(6, '0')],
        [41, pos.terminalId],
        [42, merchantField('M0000000000001')],
        [49, '156'],
      ]);
      const res = await client.request({ mti: '0200', fields }, Buffer.from(mak, 'hex'));
      saw('iso', 'payment', fieldText(res, 39)!);
      return fieldText(res, 39);
    };
    expect(await iso(rich.cardNo, 250)).toBe('00');
    expect(await iso(poor.cardNo, 9000)).toBe('51');
    expect(await iso(rich.cardNo, 250, '0123456789abcdeffedcba9876543210')).toBe('63');
    const echo = await client.request({ mti: '0800', fields: new Map<number, FieldValue>([[7, f7], [11, '000999'], [41, pos.terminalId], [70, '301']]) });
    expect(fieldText(echo, 39)).toBe('00');

    // The mix has what the old counts missed: declines decided before the authorizer.
    const codes = new Set([...sent.keys()].map((k) => k.split('|')[2]));
    for (const c of ['00', '14', '30', '51', '58', '63', '65', '94']) expect(codes, c).toContain(c);

    // /metrics: exactly the answers sent, code by code.
    const after = await decisionsFromMetrics();
    expect(Object.fromEntries(delta(after, before))).toEqual(Object.fromEntries(sent));

    // The console: its per-channel rows are /metrics' counter, and its totals by code add them up.
    const stats = await consoleStats();
    const fromConsole = new Map(stats.channels.map((r) => [key(r.channel, r.operation, r.code), r.count]));
    expect(Object.fromEntries(fromConsole)).toEqual(Object.fromEntries(after));
    const consoleBeforeByCode = new Map(consoleBefore.totals.map((t) => [t.code, t.count]));
    const sentByCode = new Map<string, number>();
    for (const [k, v] of sent) sentByCode.set(k.split('|')[2]!, (sentByCode.get(k.split('|')[2]!) ?? 0) + v);
    for (const [code, n] of sentByCode) expect(stats.totals.find((t) => t.code === code)!.count - (consoleBeforeByCode.get(code) ?? 0), code).toBe(n);
    expect(stats.approved + stats.declined).toBe([...after.values()].reduce((a, b) => a + b, 0));

    // ISO messages by MTI and code, the echo included.
    const page = await scrape();
    const isoMessages = counterOf(page, 'cc_iso_messages_total');
    expect(isoMessages.get('code=00,mti=0200')).toBeGreaterThanOrEqual(1);
    expect(isoMessages.get('code=63,mti=0200')).toBeGreaterThanOrEqual(1);
    expect(isoMessages.get('code=00,mti=0800')).toBeGreaterThanOrEqual(1);
    expect(page).toMatch(/^cc_iso_connections_open 1$/m);
  });

  it('time authorizations per channel, ledger batches, the Redis gate, and watch the dependencies', async () => {
    const page = await scrape();
    for (const channel of ['http', 'iso', 'batch']) {
      expect(Number(new RegExp(`^cc_authorization_duration_seconds_count\\{channel="${channel}"\\} (\\d+)$`, 'm').exec(page)?.[1]), channel).toBeGreaterThan(0);
    }
    expect(Number(/^cc_ledger_batch_commands_count (\d+)$/m.exec(page)?.[1])).toBeGreaterThan(0);
    expect(Number(/^cc_ledger_commit_duration_seconds_count (\d+)$/m.exec(page)?.[1])).toBe(sys.ledger.stats.batches);
    expect(Number(/^cc_redis_gate_duration_seconds_count (\d+)$/m.exec(page)?.[1])).toBeGreaterThan(0);
    expect(page).toMatch(/^cc_ledger_queue_commands 0$/m);
    expect(page).toMatch(/^cc_dependency_up\{dependency="postgres"\} 1$/m);
    expect(page).toMatch(/^cc_dependency_up\{dependency="redis"\} 1$/m);
  });

  it('count wrong PINs, failed logins and refusals while starting', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 50_000, pin: '123456' });
    const before = counterOf(await scrape(), 'cc_pin_failures_total').get('channel=http,code=55') ?? 0;
    // Above noPinMax (30000 fen in the demo policy) a PIN block that is not the card's PIN is 55.
    const res = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'pin-1', cardNo, amount: 40_000, pinBlock: '0000000000000000' } });
    expect(res.json().code).toBe('55');
    expect(counterOf(await scrape(), 'cc_pin_failures_total').get('channel=http,code=55')).toBe(before + 1);

    const logins = () => scrape().then((page) => counterOf(page, 'cc_login_failures_total'));
    const loginsBefore = await logins();
    const login = await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin: '654321' } });
    expect(login.statusCode).toBe(401);
    expect((await logins()).get('reason=pin')).toBe((loginsBefore.get('reason=pin') ?? 0) + 1);
    expect((await sys.http.inject({ method: 'POST', url: '/v1/citizen/login', payload: { cardNo, pin: '123456' } })).statusCode).toBe(200);
    expect((await logins()).get('reason=pin')).toBe((loginsBefore.get('reason=pin') ?? 0) + 1);

    sys.recovered = false;
    try {
      const refused = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: { paymentId: 'start-1', cardNo, amount: 100 } });
      expect(refused.statusCode).toBe(503);
    } finally {
      sys.recovered = true;
    }
    const page = await scrape();
    expect(counterOf(page, 'cc_overload_refusals_total').get('channel=http,reason=starting')).toBe(1);
    expect(counterOf(page, 'cc_authorizations_total').get('channel=http,code=91,operation=payment')).toBe(1);
  });

  it('count job runs by outcome with their duration and last success, and drift found and repaired', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin }); // cached in Redis
    expect(await sys.redis.exists(sys.keys.cardState(cardNo))).toBe(1);
    await sys.redis.hset(sys.keys.cardState(cardNo), 'pu', '1500'); // the ledger says 1000
    const run = await runJob(sys, 'redis-drift', '2024-09-03');
    expect(run.result).toMatchObject({ drifted: 1, repaired: 1 });
    const page = await scrape();
    expect(page).toMatch(/^cc_drift_found_cards_total 1$/m);
    expect(page).toMatch(/^cc_drift_repaired_cards_total 1$/m);
    expect(counterOf(page, 'cc_job_runs_total').get('job=redis-drift,outcome=completed')).toBe(1);
    expect(page).toMatch(/^cc_job_duration_seconds_count\{job="redis-drift",outcome="completed"\} 1$/m);
    const last = Number(/^cc_job_last_success_timestamp_seconds\{job="redis-drift"\} (\S+)$/m.exec(page)?.[1]);
    expect(Math.abs(last - sys.clock.now().getTime() / 1000)).toBeLessThan(60);
  });
});
