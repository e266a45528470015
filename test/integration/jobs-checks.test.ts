// The nightly checks (issue: nightly jobs): trial-balance finds an account whose stored balance is
// not the sum of its postings; redis-drift finds cached balances that differ from the ledger, drops
// them (they reload from the ledger), leaves a card with a command in flight alone, and masks card
// numbers in its report and logs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard } from '../support/fixtures.js';
import { maskCardNo } from '../../src/domain/card-number.js';
import { removeReports, runJob } from './jobs-support.js';

let sys: TestSystem;
const cards: string[] = [];

beforeAll(async () => {
  sys = await createTestSystem();
  for (let i = 0; i < 5; i++) cards.push((await issueCard(sys.http, { balance: 1000 * (i + 1), medical: 500 })).cardNo);
});
afterAll(async () => {
  await removeReports(sys);
  await sys.destroy();
});

describe('trial-balance', () => {
  it('balances a ledger written only by the ledger writer', async () => {
    const run = await runJob(sys, 'trial-balance', '2024-09-01');
    expect(run.result).toMatchObject({ balanced: true, totalFen: 0, mismatched: [] });
    const kinds = (run.result!.accounts as { kind: string; count: number }[]).map((a) => a.kind);
    expect(kinds).toContain('purse');
  });

  it('names an account whose stored balance is not the sum of its postings', async () => {
    const [a] = cards;
    await sys.pool.query(`UPDATE accounts SET balance = balance + 5 WHERE kind = 'purse' AND owner_id = $1`, [a]);
    try {
      const run = await runJob(sys, 'trial-balance', '2024-09-02');
      expect(run.result).toMatchObject({ balanced: false, totalFen: 5, mismatched: [{ kind: 'purse', ownerId: maskCardNo(a), balanceFen: 1005, postingsFen: 1000 }] });
      const file = await readFile(path.join(sys.config.reportsDir, 'trial-balance-2024-09-02.json'), 'utf8');
      expect(file).not.toContain(a!);
    } finally {
      await sys.pool.query(`UPDATE accounts SET balance = balance - 5 WHERE kind = 'purse' AND owner_id = $1`, [a]);
    }
  });
});

describe('redis-drift', () => {
  it('drops drifted cached cards, skips one with a command in flight, and reports them masked', async () => {
    const [a, b, c, d, e] = cards as [string, string, string, string, string];
    for (const card of cards) expect(await sys.redis.exists(sys.keys.cardState(card))).toBe(1);
    await sys.redis.hset(sys.keys.cardState(a), 'pu', '1500'); // ledger 1000
    await sys.redis.hset(sys.keys.cardState(b), 'me', '900'); // ledger 500
    await sys.redis.hset(sys.keys.cardState(c), 'pu', '1'); // ledger 3000, but a command is in flight
    await sys.redis.sadd(sys.keys.pending(c), `${c} payment:in-flight-1`);
    await sys.redis.hdel(sys.keys.cardState(e), 'me', 'st'); // a partial hash
    try {
      const run = await runJob(sys, 'redis-drift', '2024-09-03');
      expect(run.state, run.error ?? '').toBe('completed');
      expect(run.result).toMatchObject({ drifted: 3, repaired: 3, skippedInFlight: 1, skippedChanged: 0 });
      expect(run.result!.scanned as number).toBeGreaterThanOrEqual(5);
      const report = JSON.parse(await readFile(path.join(sys.config.reportsDir, 'redis-drift-2024-09-03.json'), 'utf8'));
      expect(report.driftedCards.map((x: { card: string }) => x.card).sort()).toEqual([a, b, e].map(maskCardNo).sort());
      expect(report.driftedCards.find((x: { card: string }) => x.card === maskCardNo(a))).toEqual({ card: maskCardNo(a), redisPurseFen: 1500, ledgerPurseFen: 1000, redisMedicalFen: 500, ledgerMedicalFen: 500 });
      const text = JSON.stringify(report) + sys.logLines.join('');
      for (const card of cards) expect(text).not.toContain(card);
      expect(await sys.redis.exists(sys.keys.cardState(a))).toBe(0);
      expect(await sys.redis.exists(sys.keys.cardState(b))).toBe(0);
      expect(await sys.redis.exists(sys.keys.cardState(e))).toBe(0);
      expect(await sys.redis.hget(sys.keys.cardState(c), 'pu')).toBe('1');
      expect(await sys.redis.exists(sys.keys.cardState(d))).toBe(1);
      // The dropped card reloads from the ledger on next use.
      const balance = await sys.http.inject({ method: 'GET', url: `/v1/cards/${a}/balance`, headers: admin });
      expect(balance.json()).toMatchObject({ purse: 1000, medical: 500 });
    } finally {
      await sys.redis.srem(sys.keys.pending(c), `${c} payment:in-flight-1`);
    }
    // Once the command is no longer in flight, the next run repairs that card too; then all agree.
    const again = await runJob(sys, 'redis-drift', '2024-09-04');
    expect(again.result).toMatchObject({ drifted: 1, repaired: 1, skippedInFlight: 0 });
    const clean = await runJob(sys, 'redis-drift', '2024-09-05');
    expect(clean.result).toMatchObject({ drifted: 0, repaired: 0 });
  });
});
