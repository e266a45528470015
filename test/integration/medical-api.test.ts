// Medical settlements over HTTP against real PostgreSQL and Redis (issue: social-security medical
// payments): presettle, settle, cancel, idempotency, permissions, concurrency, the year-to-date.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, kiosk, medicalPos, retailPos, type RegisteredTerminal } from '../support/fixtures.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { medicalYearOf } from '../../src/domain/medical/index.js';

let sys: TestSystem;
let hospital: RegisteredTerminal;
let pharmacy: RegisteredTerminal;
let shop: RegisteredTerminal;
const hospitalId = 'M0000000000101';

beforeAll(async () => {
  sys = await createTestSystem();
  hospital = await medicalPos(sys.http);
  pharmacy = await medicalPos(sys.http, 'M0000000000102');
  shop = await retailPos(sys.http);
});
afterAll(async () => sys.destroy());

type Item = { code: string; amount: number; eligible: boolean };
const year = () => medicalYearOf(businessDateOf(new Date()));
// The demo policy: deductible 80,000, fund rate 0.70. With a fresh year: deductible 80,000 personal,
// fund 0.70 × 20,000 = 14,000; personal side 106,000 − 14,000 = 92,000.
const bill: Item[] = [
  { code: 'CT01', amount: 100_000, eligible: true },
  { code: 'ROOM1', amount: 6_000, eligible: false },
];

function post(url: string, payload: unknown, t: { headers: Record<string, string> } = hospital) {
  return sys.http.inject({ method: 'POST', url, headers: t.headers, payload: payload as Record<string, unknown> });
}
const presettle = (body: unknown, t?: { headers: Record<string, string> }) => post('/v1/medical/presettle', body, t);
const settle = (body: unknown, t?: { headers: Record<string, string> }) => post('/v1/medical/settle', body, t);
const cancel = (claimId: string, t?: { headers: Record<string, string> }) => post(`/v1/medical/${claimId}/cancel`, {}, t);

async function balances(cardNo: string): Promise<{ purse: number; medical: number }> {
  const res = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin });
  const ledger = await sys.pool.query<{ kind: string; balance: bigint }>(`SELECT kind, balance FROM accounts WHERE owner_id = $1 AND kind IN ('purse', 'medical')`, [cardNo]);
  const pg = Object.fromEntries(ledger.rows.map((r) => [r.kind, Number(r.balance)]));
  // The Redis view and the ledger agree after every call (replies come after the commit).
  expect({ purse: res.json().purse, medical: res.json().medical }).toEqual({ purse: pg.purse ?? 0, medical: pg.medical ?? 0 });
  return { purse: res.json().purse as number, medical: res.json().medical as number };
}

async function account(kind: string, owner = ''): Promise<number> {
  const r = await sys.pool.query<{ balance: bigint }>(`SELECT balance FROM accounts WHERE kind = $1 AND owner_id = $2`, [kind, owner]);
  return Number(r.rows[0]?.balance ?? 0n);
}

async function transfersFor(cardNo: string): Promise<number> {
  const r = await sys.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1`, [cardNo]);
  return r.rows[0]!.n;
}

async function ytdOf(citizenId: number): Promise<{ deductibleUsed: number; fundPaid: number } | null> {
  const r = await sys.pool.query<{ deductible_used: bigint; fund_paid: bigint }>(`SELECT deductible_used, fund_paid FROM medical_ytd WHERE citizen_id = $1 AND year = $2`, [
    citizenId,
    year(),
  ]);
  const row = r.rows[0];
  return row ? { deductibleUsed: Number(row.deductible_used), fundPaid: Number(row.fund_paid) } : null;
}

async function claimRow(claimId: string) {
  const r = await sys.pool.query(`SELECT status, fund, personal, purse, cash, total, deductible_part, merchant_id, items FROM medical_claims WHERE claim_id = $1`, [claimId]);
  return r.rows[0] as Record<string, unknown> | undefined;
}

async function claimRows(claimId: string) {
  const r = await sys.pool.query<{ terminal_id: string }>(`SELECT terminal_id FROM medical_claims WHERE claim_id = $1`, [claimId]);
  return r.rows;
}

describe('POST /v1/medical/presettle', () => {
  it('computes the split and moves nothing', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { balance: 10_000, medical: 50_000 });
    const before = { ...(await balances(cardNo)), transfers: await transfersFor(cardNo), fund: await account('medical_fund') };
    const res = await presettle({ claimId: 'pre-1', cardNo, items: bill });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ fund: 14_000, personal: 50_000, purse: 0, cash: 42_000, total: 106_000 });
    const withPurse = await presettle({ claimId: 'pre-1', cardNo, items: bill, usePurse: true });
    expect(withPurse.json()).toEqual({ fund: 14_000, personal: 50_000, purse: 10_000, cash: 32_000, total: 106_000 });
    expect({ ...(await balances(cardNo)), transfers: await transfersFor(cardNo), fund: await account('medical_fund') }).toEqual(before);
    expect(await claimRow('pre-1')).toBeUndefined();
    expect(await ytdOf(citizenId)).toBeNull();
  });

  it('refuses a retail POS (58), a kiosk (58), an unknown card (14) and a blocked card (43)', async () => {
    const { cardNo } = await issueCard(sys.http, { medical: 1_000 });
    expect((await presettle({ claimId: 'pre-2', cardNo, items: bill }, shop)).json()).toEqual({ approved: false, code: '58' });
    expect((await presettle({ claimId: 'pre-2', cardNo, items: bill }, await kiosk(sys.http))).json()).toEqual({ approved: false, code: '58' });
    expect((await presettle({ claimId: 'pre-2', cardNo: '6200999999999995', items: bill })).json()).toEqual({ approved: false, code: '14' });
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'blocked' } });
    expect((await presettle({ claimId: 'pre-2', cardNo, items: bill })).json()).toEqual({ approved: false, code: '43' });
  });
});

describe('POST /v1/medical/settle', () => {
  it('moves fund, medical account and purse to the hospital, records the claim and the year-to-date', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { balance: 10_000, medical: 50_000 });
    const fundBefore = await account('medical_fund');
    const payableBefore = await account('payable', hospitalId);
    const res = await settle({ claimId: 'set-1', cardNo, items: bill, usePurse: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ approved: true, code: '00', fund: 14_000, personal: 50_000, purse: 10_000, cash: 32_000 });
    expect(res.json().transactionId).toMatch(/^\d+$/);
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
    expect(fundBefore - (await account('medical_fund'))).toBe(14_000);
    expect((await account('payable', hospitalId)) - payableBefore).toBe(74_000);
    expect(await claimRow('set-1')).toMatchObject({ status: 'settled', fund: 14_000n, personal: 50_000n, purse: 10_000n, cash: 32_000n, total: 106_000n, deductible_part: 80_000n });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 80_000, fundPaid: 14_000 });
    // The card's history shows the two card legs with the claim and the split's explanation.
    const history = await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/transactions`, headers: admin });
    const legs = (history.json().items as { kind: string; account: string; amount: number; detail?: { claimId?: string }; explanation?: string[] }[]).filter(
      (i) => i.kind === 'medical-settle',
    );
    expect(legs.map((l) => [l.account, l.amount]).sort()).toEqual([
      ['medical', -50_000],
      ['purse', -10_000],
    ]);
    expect(legs[0]!.detail?.claimId).toBe('set-1');
    expect(legs[0]!.explanation?.length).toBeGreaterThan(3);
  });

  it('a second claim of the year finds the deductible used: the fund pays 70% of eligible items', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { medical: 100_000 });
    await settle({ claimId: 'ytd-1', cardNo, items: [{ code: 'A', amount: 80_000, eligible: true }] });
    const second = await settle({ claimId: 'ytd-2', cardNo, items: [{ code: 'B', amount: 10_001, eligible: true }, { code: 'C', amount: 500, eligible: false }] });
    // 0.70 × 10,001 = 7,000.7 → 7,001 (half-even to fen); personal 10,501 − 7,001 = 3,500.
    expect(second.json()).toMatchObject({ approved: true, fund: 7_001, personal: 3_500, purse: 0, cash: 0 });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 80_000, fundPaid: 7_001 });
  });

  it('usePurse false leaves the purse alone and the rest is cash', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000, medical: 20_000 });
    const res = await settle({ claimId: 'nopurse-1', cardNo, items: bill, usePurse: false });
    expect(res.json()).toMatchObject({ approved: true, fund: 14_000, personal: 20_000, purse: 0, cash: 72_000 });
    expect(await balances(cardNo)).toEqual({ purse: 10_000, medical: 0 });
  });

  it('an uninsured citizen gets no fund share and no deductible', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { insured: false, medical: 5_000, balance: 2_000 });
    const fundBefore = await account('medical_fund');
    const res = await settle({ claimId: 'unins-1', cardNo, items: bill, usePurse: true });
    expect(res.json()).toMatchObject({ approved: true, fund: 0, personal: 5_000, purse: 2_000, cash: 99_000 });
    expect(await account('medical_fund')).toBe(fundBefore);
    expect(await claimRow('unins-1')).toMatchObject({ fund: 0n, deductible_part: 0n });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 0, fundPaid: 0 });
  });

  it('records an all-cash claim (nothing to move) and counts its deductible', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http);
    const body = { claimId: 'cash-1', cardNo, items: [{ code: 'X', amount: 3_000, eligible: true }] };
    const res = await settle(body);
    expect(res.json()).toEqual({ approved: true, code: '00', fund: 0, personal: 0, purse: 0, cash: 3_000, total: 3_000 });
    expect(await transfersFor(cardNo)).toBe(0);
    expect(await claimRow('cash-1')).toMatchObject({ status: 'settled', cash: 3_000n, deductible_part: 3_000n });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 3_000, fundPaid: 0 });
    expect((await settle(body)).json()).toEqual(res.json());
    expect((await settle({ ...body, items: [{ code: 'X', amount: 3_001, eligible: true }] })).statusCode).toBe(409);
    expect((await cancel('cash-1')).json()).toEqual({ approved: true, code: '00' });
    expect(await claimRow('cash-1')).toMatchObject({ status: 'cancelled' });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 0, fundPaid: 0 });
  });

  it('is idempotent by claimId: same body → same answer, other content → 409, nothing moves twice', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { balance: 5_000, medical: 30_000 });
    const body = { claimId: 'idem-1', cardNo, items: bill, usePurse: true };
    const first = await settle(body);
    expect(first.json().approved).toBe(true);
    const transfers = await transfersFor(cardNo);
    const after = await balances(cardNo);
    const again = await settle(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    for (const other of [
      { ...body, usePurse: false },
      { ...body, items: [{ ...bill[0]!, amount: 100_001 }, bill[1]!] },
      { ...body, items: [bill[0]!, { ...bill[1]!, eligible: true }] },
    ]) {
      const res = await settle(other);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ status: 409, code: '94' });
    }
    expect(await transfersFor(cardNo)).toBe(transfers);
    expect(await balances(cardNo)).toEqual(after);
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 80_000, fundPaid: 14_000 });
    // The same claimId from another hospital's POS is that POS's own claim (DESIGN §11: claim ids
    // are scoped to their terminal), idempotent there in turn.
    const elsewhere = await settle(body, pharmacy);
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.json()).toMatchObject({ approved: true, code: '00' });
    expect((await settle(body, pharmacy)).json()).toEqual(elsewhere.json());
    expect((await claimRows('idem-1')).map((r) => r.terminal_id).sort()).toEqual([hospital.terminalId, pharmacy.terminalId].sort());
  });

  it('moves money once for 10 concurrent identical settlements', async () => {
    const { cardNo } = await issueCard(sys.http, { medical: 50_000 });
    const body = { claimId: 'idem-conc', cardNo, items: bill };
    const answers = await Promise.all(Array.from({ length: 10 }, () => settle(body)));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]!.json()).toMatchObject({ approved: true, fund: 14_000, personal: 50_000 });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
    expect(await transfersFor(cardNo)).toBe(3); // the credit, then the fund and medical legs
  });

  it('10 concurrent claims on one card never overdraw it; the year-to-date is the sum of the claims', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { medical: 50_000 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => settle({ claimId: `conc-${i}`, cardNo, items: [{ code: 'E', amount: 12_000, eligible: true }] })),
    );
    const replies = answers.map((a) => a.json() as { approved: boolean; fund: number; personal: number; purse: number; cash: number });
    expect(replies.every((r) => r.approved)).toBe(true);
    const sum = (k: 'fund' | 'personal' | 'cash') => replies.reduce((s, r) => s + r[k], 0);
    // 120,000 eligible: 80,000 deductible, the fund 0.70 × 40,000, the medical account 50,000 of the rest.
    expect({ fund: sum('fund'), personal: sum('personal'), cash: sum('cash') }).toEqual({ fund: 28_000, personal: 50_000, cash: 42_000 });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
    const claims = await sys.pool.query<{ d: bigint; f: bigint }>(
      `SELECT sum(deductible_part)::bigint AS d, sum(fund)::bigint AS f FROM medical_claims WHERE citizen_id = $1 AND status = 'settled'`,
      [citizenId],
    );
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: Number(claims.rows[0]!.d), fundPaid: Number(claims.rows[0]!.f) });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 80_000, fundPaid: 28_000 });
  });

  it('recomputes once when the purse moved between the split and the gate', async () => {
    const { cardNo } = await issueCard(sys.http, { insured: false, balance: 1_000 });
    const service = sys.medical.service;
    service.hooks.beforeGate = async (attempt) => {
      if (attempt === 1) await post('/v1/payments', { paymentId: 'race-pay-1', cardNo, amount: 500 }, shop);
    };
    try {
      const res = await settle({ claimId: 'race-1', cardNo, items: [{ code: 'D', amount: 800, eligible: false }], usePurse: true });
      expect(res.json()).toMatchObject({ approved: true, code: '00', purse: 500, cash: 300, personal: 0, fund: 0 });
      expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
    } finally {
      service.hooks = {};
    }
  });

  it('answers 51 when the balance moves again, and the retry answers the same', async () => {
    const { cardNo } = await issueCard(sys.http, { insured: false, balance: 1_000 });
    const service = sys.medical.service;
    service.hooks.beforeGate = async (attempt) => {
      await post('/v1/payments', { paymentId: `race2-pay-${attempt}`, cardNo, amount: attempt === 1 ? 500 : 400 }, shop);
    };
    const body = { claimId: 'race-2', cardNo, items: [{ code: 'D', amount: 800, eligible: false }], usePurse: true };
    try {
      expect((await settle(body)).json()).toEqual({ approved: false, code: '51' });
    } finally {
      service.hooks = {};
    }
    expect((await settle(body)).json()).toEqual({ approved: false, code: '51' });
    expect(await balances(cardNo)).toEqual({ purse: 100, medical: 0 });
    expect(await claimRow('race-2')).toBeUndefined();
  });

  it('a retail POS gets 58 and nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 5_000, medical: 30_000 });
    const before = { ...(await balances(cardNo)), transfers: await transfersFor(cardNo) };
    const res = await settle({ claimId: 'retail-1', cardNo, items: bill, usePurse: true }, shop);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ approved: false, code: '58' });
    expect({ ...(await balances(cardNo)), transfers: await transfersFor(cardNo) }).toEqual(before);
    expect(await claimRow('retail-1')).toBeUndefined();
    // Not open to the admin token either (a terminal call).
    const asAdmin = await sys.http.inject({ method: 'POST', url: '/v1/medical/settle', headers: admin, payload: { claimId: 'retail-2', cardNo, items: bill } });
    expect(asAdmin.statusCode).toBe(403);
  });

  it('declines unknown (14) and blocked (43) cards without moving anything', async () => {
    expect((await settle({ claimId: 'bad-1', cardNo: '6200999999999995', items: bill })).json()).toEqual({ approved: false, code: '14' });
    expect((await settle({ claimId: 'bad-1', cardNo: '6200999999999994', items: bill })).json()).toEqual({ approved: false, code: '14' });
    const { cardNo } = await issueCard(sys.http, { medical: 30_000 });
    await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/status`, headers: admin, payload: { status: 'lost' } });
    expect((await settle({ claimId: 'bad-2', cardNo, items: bill })).json()).toEqual({ approved: false, code: '41' });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 30_000 });
  });

  it('validates the body: 1..200 items of {code, amount (integer fen ≥ 1), eligible}', async () => {
    const { cardNo } = await issueCard(sys.http, { medical: 1_000 });
    const many = Array.from({ length: 201 }, (_, i) => ({ code: `I${i}`, amount: 1, eligible: true }));
    const bad: unknown[] = [
      { claimId: 'v-1', cardNo, items: [] },
      { claimId: 'v-1', cardNo, items: many },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 0, eligible: true }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 1.5, eligible: true }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: '100', eligible: true }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 100 }] },
      { claimId: 'v-1', cardNo, items: [{ code: '', amount: 100, eligible: true }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 100, eligible: 'yes' }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 100, eligible: true, extra: 1 }] },
      { claimId: 'v 1', cardNo, items: [{ code: 'A', amount: 100, eligible: true }] },
      { cardNo, items: [{ code: 'A', amount: 100, eligible: true }] },
      { claimId: 'v-1', cardNo, items: [{ code: 'A', amount: 100, eligible: true }], usePurse: 'true' },
    ];
    for (const body of bad) {
      const res = await settle(body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.json()).toMatchObject({ code: '30' });
    }
    const full = Array.from({ length: 200 }, (_, i) => ({ code: `I${i}`, amount: 1, eligible: false }));
    expect((await settle({ claimId: 'v-200', cardNo, items: full })).json()).toMatchObject({ approved: true, personal: 200 });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 800 });
  });
});

describe('POST /v1/medical/:claimId/cancel', () => {
  it('gives back the medical account, the purse and the fund, and the year-to-date; idempotent', async () => {
    const { cardNo, citizenId } = await issueCard(sys.http, { balance: 10_000, medical: 50_000 });
    const fundBefore = await account('medical_fund');
    const payableBefore = await account('payable', hospitalId);
    const body = { claimId: 'can-1', cardNo, items: bill, usePurse: true };
    const settled = await settle(body);
    expect(settled.json().approved).toBe(true);
    const res = await cancel('can-1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ approved: true, code: '00' });
    expect(await balances(cardNo)).toEqual({ purse: 10_000, medical: 50_000 });
    expect(await account('medical_fund')).toBe(fundBefore);
    expect(await account('payable', hospitalId)).toBe(payableBefore);
    expect(await claimRow('can-1')).toMatchObject({ status: 'cancelled' });
    expect(await ytdOf(citizenId)).toEqual({ deductibleUsed: 0, fundPaid: 0 });
    const transfers = await transfersFor(cardNo);
    expect((await cancel('can-1')).json()).toEqual({ approved: true, code: '00' });
    // Settling the cancelled claim again answers its first result and moves nothing.
    expect((await settle(body)).json()).toEqual(settled.json());
    expect(await transfersFor(cardNo)).toBe(transfers);
    expect(await balances(cardNo)).toEqual({ purse: 10_000, medical: 50_000 });
  });

  it('concurrent cancels of one claim give back once', async () => {
    const { cardNo } = await issueCard(sys.http, { medical: 50_000 });
    await settle({ claimId: 'can-conc', cardNo, items: bill });
    const answers = await Promise.all(Array.from({ length: 5 }, () => cancel('can-conc')));
    expect(answers.every((a) => a.json().approved === true)).toBe(true);
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 50_000 });
  });

  it('gives the money back to the card that replaced the claim card', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1_000, medical: 2_000 });
    await settle({ claimId: 'can-repl', cardNo, items: [{ code: 'R', amount: 2_500, eligible: false }], usePurse: true });
    expect(await balances(cardNo)).toEqual({ purse: 500, medical: 0 });
    const replaced = await sys.http.inject({ method: 'POST', url: `/v1/admin/cards/${cardNo}/replace`, headers: admin, payload: {} });
    const newCardNo = replaced.json().cardNo as string;
    expect((await cancel('can-repl')).json()).toEqual({ approved: true, code: '00' });
    expect(await balances(newCardNo)).toEqual({ purse: 1_000, medical: 2_000 });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
  });

  it('unknown claim → 25; another merchant → 25; a retail POS → 58', async () => {
    expect((await cancel('no-such-claim')).json()).toEqual({ approved: false, code: '25' });
    const { cardNo } = await issueCard(sys.http, { medical: 10_000 });
    await settle({ claimId: 'can-2', cardNo, items: bill });
    expect((await cancel('can-2', pharmacy)).json()).toEqual({ approved: false, code: '25' });
    expect((await cancel('can-2', shop)).json()).toEqual({ approved: false, code: '58' });
    expect(await claimRow('can-2')).toMatchObject({ status: 'settled' });
    expect(await balances(cardNo)).toEqual({ purse: 0, medical: 0 });
  });
});

describe('the medical account is spent only at medical merchants', () => {
  it('payments (retail or medical POS) debit the purse only, never the medical account', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1_000, medical: 5_000 });
    expect((await post('/v1/payments', { paymentId: 'only-purse-1', cardNo, amount: 600 }, shop)).json()).toMatchObject({ approved: true, balance: 400 });
    // More than the purse, less than purse + medical: declined, the medical account is not touched.
    expect((await post('/v1/payments', { paymentId: 'only-purse-2', cardNo, amount: 600 }, shop)).json()).toEqual({ approved: false, code: '51' });
    expect((await post('/v1/payments', { paymentId: 'only-purse-3', cardNo, amount: 300 }, hospital)).json()).toMatchObject({ approved: true, balance: 100 });
    expect(await balances(cardNo)).toEqual({ purse: 100, medical: 5_000 });
    const medicalDebits = await sys.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM transfers t JOIN accounts a ON a.account_id = t.debit_account_id
        WHERE a.kind = 'medical' AND a.owner_id = $1`,
      [cardNo],
    );
    expect(medicalDebits.rows[0]!.n).toBe(0);
  });
});

describe('books', () => {
  it('balance to zero, and the year-to-date equals the claims (and survives a rebuild unchanged)', async () => {
    const tb = await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
    const { claims } = sys.medical;
    expect(await claims.ytdMismatches()).toEqual([]);
    const before = await claims.ytdRows();
    expect(before.length).toBeGreaterThan(5);
    await claims.rebuildYtd();
    expect(await claims.ytdRows()).toEqual(before);
  });
});
