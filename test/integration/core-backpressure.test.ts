// Back-pressure of the authorization core (issue: authorization core): the ledger queue has a
// named maximum; beyond it a command is refused at once (code 91 or HTTP 503) with its Redis effect
// undone, so that nothing is lost or half-done and a later retry approves once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { loadConfig } from '../../src/platform/config.js';
import { pendingCount } from '../support/pending.js';

let sys: TestSystem;
let pos: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ env: { LEDGER_QUEUE_MAX: '1', LEDGER_BATCH_WAIT_MS: '50' } });
  pos = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

const pay = (body: { paymentId: string; cardNo: string; amount: number }) =>
  sys.http.inject({ method: 'POST', url: '/v1/payments', headers: pos.headers, payload: body });

describe('ledger queue maximum', () => {
  it('is named and configured (LEDGER_QUEUE_MAX), with a bounded default', () => {
    expect(sys.config.ledgerQueueMax).toBe(1);
    const defaults = loadConfig({});
    expect(defaults.ledgerQueueMax).toBeGreaterThan(0);
    expect(defaults.ledgerQueueMax).toBeLessThanOrEqual(1_000_000);
    expect(() => loadConfig({ LEDGER_QUEUE_MAX: '0' })).toThrow(/LEDGER_QUEUE_MAX/);
  });

  it('under overload some payments are refused (91 / 503) and nothing is lost or half-done', async () => {
    const cards: string[] = [];
    for (let i = 0; i < 8; i++) cards.push((await issueCard(sys.http, { balance: 2000 })).cardNo); // one at a time: the queue holds one
    let queuedMax = 0;
    const sampler = setInterval(() => (queuedMax = Math.max(queuedMax, sys.ledger.queued)), 1);
    const sent = cards.flatMap((cardNo, c) => Array.from({ length: 6 }, (_, i) => ({ paymentId: `bp-${c}-${i}`, cardNo, amount: 100 })));
    const answers = await Promise.all(sent.map((body) => pay(body)));
    clearInterval(sampler);
    expect(queuedMax).toBeLessThanOrEqual(1);

    const refused = sent.filter((_, i) => answers[i]!.statusCode === 503 || answers[i]!.json().code === '91');
    const approved = sent.filter((_, i) => answers[i]!.statusCode === 200 && answers[i]!.json().approved === true);
    expect(refused.length).toBeGreaterThan(0);
    expect(approved.length).toBeGreaterThan(0);
    expect(refused.length + approved.length).toBe(sent.length);
    for (const a of answers) {
      if (a.statusCode === 200 && a.json().code === '91') {
        expect(a.json()).toEqual({ approved: false, code: '91' });
        expect(a.headers['retry-after']).toBeDefined();
      }
      if (a.statusCode === 503) expect(a.json().code).toBe('91');
    }

    // Every approval is in the ledger exactly once; no refusal is.
    await sys.ledger.drain();
    const rows = await sys.pool.query<{ op_id: string }>(`SELECT op_id FROM transfers WHERE op_kind = 'payment' AND op_id LIKE 'bp-%'`);
    expect(rows.rows.map((r) => r.op_id).sort()).toEqual(approved.map((b) => b.paymentId).sort());
    // Redis agrees with PostgreSQL per card, nothing is left pending, refusals left no record.
    for (const cardNo of cards) {
      const pg = await sys.pool.query(`SELECT balance::text AS b FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
      expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe(pg.rows[0].b);
    }
    expect(await pendingCount(sys.redis, sys.config.redisKeyPrefix)).toBe(0);
    for (const b of refused) expect(await sys.redis.get(sys.keys.cardOp(b.cardNo, 'payment', b.paymentId))).toBeNull();
    const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0, mismatched: [] });

    // Once the load is gone, each refused payment retried alone approves, once.
    for (const b of refused) expect((await pay(b)).json()).toMatchObject({ approved: true, code: '00' });
    await sys.ledger.drain();
    const all = await sys.pool.query(`SELECT count(*)::int AS n FROM transfers WHERE op_kind = 'payment' AND op_id LIKE 'bp-%'`);
    expect(all.rows[0].n).toBe(sent.length);
    for (const cardNo of cards) {
      const pg = await sys.pool.query(`SELECT balance::text AS b FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
      expect(pg.rows[0].b).toBe('1400');
      expect(await sys.redis.hget(sys.keys.cardState(cardNo), 'pu')).toBe('1400');
    }
  });
});
