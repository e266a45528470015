// Hole 4 of the security review, for taps and medical claims: tapId and claimId were global, so
// validator B could take validator A's tapId (A's real tap then got 409 or "duplicate", and B's
// answer told B what A did), and hospital POS B could settle or cancel under POS A's claimId. They
// are now scoped to the terminal that sent them (DESIGN §11); replays and 409/94 within one
// terminal are as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { fixedClock } from '../../src/platform/clock.js';
import { admin, issueCard, medicalPos, type RegisteredTerminal } from '../support/fixtures.js';
import { at, bus, postTap, purse, trialBalanced, upload } from './transit-helpers.js';

let sys: TestSystem;
let validatorA: RegisteredTerminal;
let validatorB: RegisteredTerminal;
let posA: RegisteredTerminal;
let posB: RegisteredTerminal;

beforeAll(async () => {
  sys = await createTestSystem({ clock: fixedClock(new Date('2026-03-07T12:00:00+08:00')) });
  validatorA = await bus(sys.http, 'B2');
  validatorB = await bus(sys.http, 'B2');
  // Two POS of the same hospital: the merchant check alone used to let B cancel A's claims.
  posA = await medicalPos(sys.http);
  posB = await medicalPos(sys.http);
});
afterAll(async () => sys?.destroy());

const tapRows = (tapId: string) =>
  sys.pool.query<{ terminal_id: string; card_no: string; fare: number }>(`SELECT terminal_id, card_no, fare::int FROM taps WHERE tap_id = $1 ORDER BY terminal_id`, [tapId]);

describe('tapId is scoped to its validator', () => {
  it("validator B squatting validator A's online tapId: A's real tap is charged (not 409) and B learns nothing", async () => {
    const { cardNo: victim } = await issueCard(sys.http, { balance: 1000 });
    const { cardNo: own } = await issueCard(sys.http, { balance: 1000 });
    const tapId = 'VAL-A-000123';
    const squat = await postTap(sys.http, validatorB, { tapId, cardNo: own, tappedAt: at('08:00') });
    expect(squat.json()).toMatchObject({ approved: true, code: '00', fare: 100, balance: 900 });
    const real = await postTap(sys.http, validatorA, { tapId, cardNo: victim, tappedAt: at('08:05') });
    expect(real.statusCode).toBe(200);
    expect(real.json()).toMatchObject({ approved: true, code: '00', fare: 100, balance: 900 });
    // Replays within one validator answer its own first result; other content is its own 409.
    expect((await postTap(sys.http, validatorA, { tapId, cardNo: victim, tappedAt: at('08:05') })).json()).toMatchObject({ approved: true, balance: 900 });
    expect((await postTap(sys.http, validatorB, { tapId, cardNo: own, tappedAt: at('08:00') })).json()).toMatchObject({ approved: true, balance: 900 });
    const probe = await postTap(sys.http, validatorB, { tapId, cardNo: victim, tappedAt: at('08:05') });
    expect(probe.statusCode).toBe(409);
    expect(probe.json()).toMatchObject({ code: '94' });
    expect((await tapRows(tapId)).rows).toEqual(
      [
        { terminal_id: validatorA.terminalId, card_no: victim, fare: 100 },
        { terminal_id: validatorB.terminalId, card_no: own, fare: 100 },
      ].sort((x, y) => (x.terminal_id < y.terminal_id ? -1 : 1)),
    );
    const transfers = await sys.pool.query(`SELECT op_scope, card_no FROM transfers WHERE op_kind = 'tap' AND op_id = $1 ORDER BY card_no`, [tapId]);
    expect(transfers.rows).toHaveLength(2);
    expect(await purse(sys.http, victim)).toBe(900);
    expect(await purse(sys.http, own)).toBe(900);
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it("an offline upload with another validator's tapId is its own tap: not 'duplicate', not a conflict", async () => {
    const { cardNo: victim } = await issueCard(sys.http, { balance: 1000 });
    const { cardNo: own } = await issueCard(sys.http, { balance: 1000 });
    const tapId = 'VAL-A-000456';
    const real = { tapId, cardNo: victim, tappedAt: at('09:00') };
    expect((await upload(sys.http, validatorA, [real])).json().results).toEqual([{ tapId, status: 'accepted', code: '00', fare: 100 }]);
    // B uploads A's exact record: in B's namespace it is new, so B is charged nothing it did not
    // take; B's own record under the same id is accepted too.
    const probe = await upload(sys.http, validatorB, [{ tapId, cardNo: own, tappedAt: at('09:00') }]);
    expect(probe.json().results).toEqual([{ tapId, status: 'accepted', code: '00', fare: 100 }]);
    // Re-uploads within each validator: duplicate of its own; other content: its own conflict.
    expect((await upload(sys.http, validatorA, [real])).json().results).toEqual([{ tapId, status: 'duplicate', code: '00', fare: 100 }]);
    expect((await upload(sys.http, validatorB, [{ tapId, cardNo: own, tappedAt: at('09:00') }])).json().results[0]).toMatchObject({ status: 'duplicate' });
    expect((await upload(sys.http, validatorB, [real])).json().results[0]).toMatchObject({ status: 'rejected', code: '94' });
    expect(await purse(sys.http, victim)).toBe(900);
    expect(await purse(sys.http, own)).toBe(900);
    expect(await trialBalanced(sys.http)).toBe(true);
  });
});

type Item = { code: string; amount: number; eligible: boolean };
const bill: Item[] = [{ code: 'DRUG1', amount: 3_000, eligible: false }];
const settle = (t: RegisteredTerminal, body: Record<string, unknown>) => sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: t.headers, payload: body });
const cancel = (t: RegisteredTerminal, claimId: string) => sys.http.inject({ method: 'POST', url: `/v1/medical/${claimId}/cancel`, headers: t.headers, payload: {} });
const medicalOf = async (cardNo: string) => (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json() as { purse: number; medical: number };

describe('claimId is scoped to its hospital POS', () => {
  it("POS B using POS A's claimId makes two claims; B cannot cancel A's claim nor see its split", async () => {
    const { cardNo: victim } = await issueCard(sys.http, { medical: 10_000 });
    const { cardNo: own } = await issueCard(sys.http, { medical: 10_000 });
    const claimId = 'HIS-A-2026-0001';
    // B takes A's next claim id first, on its own patient's card.
    const squat = await settle(posB, { claimId, cardNo: own, items: [{ code: 'DRUG1', amount: 1_000, eligible: false }] });
    expect(squat.json()).toMatchObject({ approved: true, code: '00', personal: 1_000 });
    // A's real settlement goes through with its own split.
    const real = await settle(posA, { claimId, cardNo: victim, items: bill });
    expect(real.statusCode).toBe(200);
    expect(real.json()).toMatchObject({ approved: true, code: '00', personal: 3_000 });
    // Within each POS: a replay answers its own first result, other content is its own 409.
    expect((await settle(posA, { claimId, cardNo: victim, items: bill })).json()).toEqual(real.json());
    const probe = await settle(posB, { claimId, cardNo: victim, items: bill });
    expect(probe.statusCode).toBe(409);
    expect(probe.json()).toMatchObject({ code: '94' });
    // B's cancel cancels B's own claim, never A's.
    expect((await cancel(posB, claimId)).json()).toEqual({ approved: true, code: '00' });
    expect(await medicalOf(own)).toMatchObject({ medical: 10_000 });
    expect(await medicalOf(victim)).toMatchObject({ medical: 7_000 });
    const rows = await sys.pool.query(`SELECT terminal_id, card_no, status FROM medical_claims WHERE claim_id = $1 ORDER BY card_no`, [claimId]);
    expect(rows.rows).toEqual(
      [
        { terminal_id: posA.terminalId, card_no: victim, status: 'settled' },
        { terminal_id: posB.terminalId, card_no: own, status: 'cancelled' },
      ].sort((x, y) => (x.card_no < y.card_no ? -1 : 1)),
    );
    // A's cancel is A's own and still works; a second is idempotent.
    expect((await cancel(posA, claimId)).json()).toEqual({ approved: true, code: '00' });
    expect((await cancel(posA, claimId)).json()).toEqual({ approved: true, code: '00' });
    expect(await medicalOf(victim)).toMatchObject({ medical: 10_000 });
    expect(await trialBalanced(sys.http)).toBe(true);
  });

  it('a claim id unknown at this POS is 25 even when another POS of the hospital has it', async () => {
    const { cardNo } = await issueCard(sys.http, { medical: 10_000 });
    expect((await settle(posA, { claimId: 'HIS-A-only', cardNo, items: bill })).json()).toMatchObject({ approved: true });
    expect((await cancel(posB, 'HIS-A-only')).json()).toEqual({ approved: false, code: '25' });
    expect(await medicalOf(cardNo)).toMatchObject({ medical: 7_000 });
  });
});
