// Migration 0018 over existing data: taps and medical claims recorded while their ids were global
// keep working once the ids are scoped to their terminal: their rows get their terminal's scope, a
// replay is answered from PostgreSQL (their Redis records gone), 409/94 within the terminal holds,
// and a cancel still finds its claim.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { fixedClock } from '../../src/platform/clock.js';
import { admin, issueCard, medicalPos, type RegisteredTerminal } from '../support/fixtures.js';
import { migrationsDir } from '../../src/adapters/postgres/migrate.js';
import { at, bus, postTap, purse, trialBalanced } from './transit-helpers.js';

let sys: TestSystem;
let validatorA: RegisteredTerminal;
let validatorB: RegisteredTerminal;
let pos: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ clock: fixedClock(new Date('2026-03-07T12:00:00+08:00')) });
  validatorA = await bus(sys.http, 'B2');
  validatorB = await bus(sys.http, 'B2');
  pos = await medicalPos(sys.http);
});
afterAll(async () => sys?.destroy());

async function migration0018(): Promise<{ up: string; down: string }> {
  const text = await readFile(path.join(migrationsDir, '0018_scoped_tap_claim_ids.sql'), 'utf8');
  const [up, down] = text.split('-- Down Migration');
  return { up: up!.replace('-- Up Migration', ''), down: down! };
}

const medicalOf = async (cardNo: string) => (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json().medical as number;

describe('migration 0018 keeps taps and claims recorded with global ids', () => {
  it('re-derives their scope from their terminal; replays, 409/94 and cancel work after it', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1000, medical: 10_000 });
    const tapId = 'legacy-tap-1';
    const tapBody = { tapId, cardNo, tappedAt: at('08:00') };
    const first = (await postTap(sys.http, validatorA, tapBody)).json();
    expect(first).toMatchObject({ approved: true, fare: 100, balance: 900 });
    const claim = { claimId: 'legacy-claim-1', cardNo, items: [{ code: 'DRUG1', amount: 3_000, eligible: false }] };
    const settled = (await sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: pos.headers, payload: claim })).json();
    expect(settled).toMatchObject({ approved: true, personal: 3_000 });
    await sys.ledger.drain();

    // Back to the schema before 0018 (the rows stay), then forward again, as a deployment does.
    const { up, down } = await migration0018();
    await sys.pool.query(down);
    const before = await sys.pool.query(`SELECT op_kind, op_scope FROM transfers WHERE card_no = $1 AND op_kind IN ('tap', 'medical-settle') ORDER BY op_kind`, [cardNo]);
    expect(before.rows).toEqual([
      { op_kind: 'medical-settle', op_scope: '' },
      { op_kind: 'tap', op_scope: '' },
    ]);
    await sys.pool.query(up);
    const after = await sys.pool.query(`SELECT op_kind, op_scope FROM transfers WHERE card_no = $1 AND op_kind IN ('tap', 'medical-settle') ORDER BY op_kind`, [cardNo]);
    expect(after.rows).toEqual([
      { op_kind: 'medical-settle', op_scope: pos.terminalId },
      { op_kind: 'tap', op_scope: validatorA.terminalId },
    ]);
    expect((await sys.pool.query(`SELECT claim_scope FROM medical_claims WHERE claim_id = $1`, [claim.claimId])).rows).toEqual([{ claim_scope: pos.terminalId }]);
    // Their Redis records are gone (expired, or written under the old unscoped key): PostgreSQL answers.
    const records = await sys.redis.keys(sys.keys.cardOp(cardNo, '*', '*'));
    if (records.length > 0) await sys.redis.del(...records);

    expect((await postTap(sys.http, validatorA, tapBody)).json()).toMatchObject({ approved: true, fare: 100, balance: 900 });
    expect((await postTap(sys.http, validatorA, { ...tapBody, tappedAt: at('08:01') })).statusCode).toBe(409);
    // The same id from another validator is a ride of its own (charged by the day's fare rules).
    const other = (await postTap(sys.http, validatorB, { ...tapBody, tappedAt: at('08:30') })).json();
    expect(other).toMatchObject({ approved: true, code: '00' });
    const replay = await sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: pos.headers, payload: claim });
    expect(replay.json()).toEqual(settled);
    const conflict = await sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: pos.headers, payload: { ...claim, usePurse: true } });
    expect(conflict.statusCode).toBe(409);
    expect(await medicalOf(cardNo)).toBe(7_000);
    expect((await sys.http.inject({ method: 'POST', url: `/v1/medical/${claim.claimId}/cancel`, headers: pos.headers, payload: {} })).json()).toEqual({ approved: true, code: '00' });
    expect(await medicalOf(cardNo)).toBe(10_000);
    await sys.ledger.drain();
    expect(await purse(sys.http, cardNo)).toBe(900 - Number(other.fare));
    const taps = await sys.pool.query(`SELECT terminal_id FROM taps WHERE tap_id = $1 ORDER BY created_at`, [tapId]);
    expect(taps.rows).toEqual([{ terminal_id: validatorA.terminalId }, { terminal_id: validatorB.terminalId }]);
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});
