// The card's fare state under stress, against real PostgreSQL and Redis: two API processes tapping
// one card (the gate's version check makes the loser re-rate), a failed commit (the fare state is put
// back), and a fare state lost from Redis (rebuilt from the taps table).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { fixedClock } from '../../src/platform/clock.js';
import { issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { createTransit } from '../../src/wiring/transit.js';
import type { TransitService } from '../../src/app/transit.js';
import type { TerminalContext } from '../../src/app/terminal.js';
import { parsePolicy, rateDay, type Tap } from '../../src/domain/fare/index.js';
import { at, bus, paidFen, purse, tap, tapId, trialBalanced } from './transit-helpers.js';

let sys: TestSystem;

beforeAll(async () => {
  sys = await createTestSystem({ clock: fixedClock(new Date('2026-03-20T12:00:00+08:00')) }); // after the file's tap days: taps older than the offline window (30 days) are refused
});
afterAll(async () => sys.destroy());

async function contextOf(t: RegisteredTerminal): Promise<TerminalContext> {
  return (await sys.terminals.byApiKey(t.apiKey))!;
}

describe('two API processes tapping one card', () => {
  it('stay consistent with rateDay: a tap rated on a state that changed is re-rated', async () => {
    const other = createTransit(sys).transit; // its own per-card lock, as another process would have
    await other.reloadPolicies();
    const services: TransitService[] = [sys.transit.service, other];
    {
      const { cardNo } = await issueCard(sys.http, { balance: 5000 });
      const date = '2026-03-16';
      const validators = await Promise.all(Array.from({ length: 16 }, (_, i) => bus(sys.http, i % 2 === 0 ? 'B906' : 'B2')));
      const contexts = await Promise.all(validators.map(contextOf));
      const times = validators.map((_, i) => new Date(Date.parse(at('06:00', date)) + i * 41 * 60_000));
      const once = (i: number, id: string) => services[i % 2]!.tap(contexts[i]!, { tapId: id, cardNo, tappedAt: times[i]!.toISOString() });
      const answers = await Promise.all(
        validators.map(async (_, i) => {
          const id = tapId('two');
          // A reader retries an answer of 96 with the same tapId.
          for (let attempt = 0; ; attempt++) {
            const r = await once(i, id);
            if (r.kind !== 'answer' || r.answer.code !== '96' || attempt === 3) return r;
          }
        }),
      );
      expect(answers.map((a) => (a.kind === 'answer' ? a.answer.code : a.reason))).toEqual(validators.map(() => '00'));
      const policy = parsePolicy(sys.policy);
      const taps: Tap[] = validators.map((v, i) => ({ kind: 'bus', terminalId: v.terminalId, routeId: i % 2 === 0 ? 'B906' : 'B2', at: times[i]! }));
      const expected = rateDay(policy, { cardType: 'adult' }, taps);
      expect(await paidFen(sys.pool, cardNo)).toBe(Number(expected.totalFen));
      expect(await purse(sys.http, cardNo)).toBe(5000 - Number(expected.totalFen));
      expect(await trialBalanced(sys.http)).toBe(true);
    }
  });

  it('re-rates a tap whose fare state changed between rating and the gate', async () => {
    const b2 = await bus(sys.http, 'B2');
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const date = '2026-03-19';
    await tap(sys.http, b2, cardNo, at('07:00', date));
    // Another process charges a ride on the same validator at 07:18 right after this tap read the
    // state: the gate answers stale, and the tap rated again on the new state is anti-passback (65).
    const results: string[] = [];
    const run = sys.gate.run.bind(sys.gate);
    sys.gate.run = async (call) => {
      if (results.length === 0 && call.gate.type === 'debit' && call.gate.fare) {
        results.push('raced');
        const other = createTransit(sys).transit;
        await other.reloadPolicies();
        const r = await other.tap(await contextOf(b2), { tapId: tapId('racer'), cardNo, tappedAt: at('07:18', date) });
        results.push(r.kind === 'answer' ? `${r.answer.code}:${r.answer.fareFen}` : r.reason);
      }
      const r = await run(call);
      results.push(r.kind);
      return r;
    };
    try {
      expect(await tap(sys.http, b2, cardNo, at('07:20', date))).toMatchObject({ approved: false, code: '65' });
    } finally {
      sys.gate.run = run;
    }
    expect(results).toEqual(['raced', 'ok', '00:0', 'stale']);
    expect(await paidFen(sys.pool, cardNo)).toBe(100);
  });
});

describe('a failed commit', () => {
  it('answers 96, moves nothing, and puts the card fare state back', async () => {
    const b2 = await bus(sys.http, 'B2');
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const date = '2026-03-17';
    await tap(sys.http, b2, cardNo, at('07:00', date));
    const before = await sys.redis.get(sys.keys.cardFare(cardNo));
    const doomed = tapId('doomed');
    sys.ledger.beforeCommit = (commands) => {
      if (commands.some((c) => c.opId === doomed)) throw new Error('disk on fire');
    };
    try {
      const failed = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: b2.headers, payload: { tapId: doomed, cardNo, tappedAt: at('08:30', date) } });
      expect(failed.json()).toMatchObject({ approved: false, code: '96' });
    } finally {
      sys.ledger.beforeCommit = null;
    }
    expect(await sys.redis.get(sys.keys.cardFare(cardNo))).toBe(before);
    expect(await purse(sys.http, cardNo)).toBe(900);
    // Not refused by anti-passback against the tap that failed; the retry of it goes through.
    expect(await tap(sys.http, b2, cardNo, at('08:31', date))).toMatchObject({ approved: true, fare: 100 });
    // The reader retries the failed tap: now late, it re-rates the day. It is charged, and the 08:31
    // tap on the same validator becomes an anti-passback refusal whose 100 is refunded.
    const retry = await sys.http.inject({ method: 'POST', url: '/v1/taps', headers: b2.headers, payload: { tapId: doomed, cardNo, tappedAt: at('08:30', date) } });
    expect(retry.json()).toMatchObject({ approved: true, fare: 100 });
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
    expect(await purse(sys.http, cardNo)).toBe(800);
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});

describe('a fare state lost from Redis', () => {
  it('is rebuilt from the taps table: anti-passback and the transfer discount still apply', async () => {
    const b2 = await bus(sys.http, 'B2');
    const b906 = await bus(sys.http, 'B906');
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const date = '2026-03-18';
    await tap(sys.http, b2, cardNo, at('07:00', date));
    await sys.redis.del(sys.keys.cardFare(cardNo), sys.keys.cardState(cardNo));
    expect(await tap(sys.http, b2, cardNo, at('07:02', date))).toMatchObject({ approved: false, code: '65' });
    expect(await tap(sys.http, b906, cardNo, at('07:30', date))).toMatchObject({ approved: true, fare: 100 });
    expect(await paidFen(sys.pool, cardNo)).toBe(200);
  });
});
