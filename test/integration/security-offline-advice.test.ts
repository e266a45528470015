// Offline debt is bounded (issue 18, hole 8), over real TCP and HTTP against real PostgreSQL and
// Redis: an 0220 advice above the policy's offline floor limit → 0230 13 and nothing moves; the debt
// advices may make is capped by offlineDebtMax (atomically, in the gate) → 51 and the card
// hot-listed; uploaded transit taps keep being charged, and the card is hot-listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { issueCard, purseOf, retailPos, trialBalanced, type RegisteredTerminal } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import { parsePaymentLimits } from '../../src/domain/payment-policy.js';
import { taxi, tapId, upload, at } from './transit-helpers.js';

let sys: TestSystem;
let pos: RegisteredTerminal;
let client: IsoClient;
let stanSeq = 0;
const nextStan = () => String(++stanSeq).padStart(6, '0');

beforeAll(async () => {
  sys = await createTestSystem();
  pos = await retailPos(sys.http);
  client = await IsoClient.connect('127.0.0.1', sys.iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

const purse = (cardNo: string) => purseOf(sys.http, cardNo);
const balanced = () => trialBalanced(sys.http);

async function transfers(cardNo: string): Promise<number> {
  const r = await sys.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE card_no = $1`, [cardNo]);
  return r.rows[0]!.n;
}

/** The card's latest hotlist entry, or null. */
async function hotlisted(cardNo: string): Promise<{ listed: boolean; reason: string } | null> {
  const r = await sys.pool.query<{ listed: boolean; reason: string }>(`SELECT listed, reason FROM hotlist_changes WHERE card_no = $1 ORDER BY version DESC LIMIT 1`, [cardNo]);
  return r.rows[0] ?? null;
}

function advice(cardNo: string, amountFen: number): Promise<string | undefined> {
  const fields = new Map<number, FieldValue>([
    [2, cardNo],
    [3, '000000'],
    [4, amountField(BigInt(amountFen))],
    [7, transmissionDateTime(new Date())],
    [11, nextStan()],
    [41, pos.terminalId],
    [42, merchantField('M0000000000001')],
    [49, '156'],
  ]);
  return client.request({ mti: '0220', fields }, Buffer.from(pos.mak, 'hex')).then((m) => {
    expect(m.mti).toBe('0230');
    return fieldText(m, 39);
  });
}

describe('the policy', () => {
  it('the demo policy sets payments.offlineFloorMax 20000 and offlineDebtMax 5000; both default to those when absent', () => {
    expect(parsePaymentLimits(sys.policy.payments)).toMatchObject({ offlineFloorMaxFen: 20_000n, offlineDebtMaxFen: 5_000n });
    expect(parsePaymentLimits({ perTransactionMax: 100_000, dailyMax: 300_000, noPinMax: 30_000 })).toMatchObject({ offlineFloorMaxFen: 20_000n, offlineDebtMaxFen: 5_000n });
    expect(() => parsePaymentLimits({ perTransactionMax: 1, dailyMax: 1, noPinMax: 1, offlineDebtMax: -5 })).toThrow(/offlineDebtMax/);
  });
});

describe('0220 offline advices', () => {
  it('ten advices of 100,000 fen (the attack: the card went to −990,000) → each 13, nothing moves', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const before = await transfers(cardNo);
    for (let i = 0; i < 10; i++) expect(await advice(cardNo, 100_000)).toBe('13');
    expect(await purse(cardNo)).toBe(10_000);
    expect(await transfers(cardNo)).toBe(before);
    expect(await hotlisted(cardNo)).toBeNull();
    expect(await balanced()).toBe(true);
  });

  it('the floor limit is inclusive: 20,000 → 00, 20,001 → 13', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 30_000 });
    expect(await advice(cardNo, 20_001)).toBe('13');
    expect(await advice(cardNo, 20_000)).toBe('00');
    expect(await purse(cardNo)).toBe(10_000);
    expect(await hotlisted(cardNo)).toBeNull();
  });

  it('advices may take the card down to −5,000 and no further: beyond → 51, nothing moves, the card is hot-listed', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1_000 });
    expect(await advice(cardNo, 2_000)).toBe('00'); // −1,000
    expect(await hotlisted(cardNo)).toEqual({ listed: true, reason: 'debt' });
    expect(await advice(cardNo, 2_000)).toBe('00'); // −3,000
    expect(await advice(cardNo, 2_000)).toBe('00'); // −5,000: at the cap
    const before = await transfers(cardNo);
    expect(await advice(cardNo, 2_000)).toBe('51');
    expect(await advice(cardNo, 1)).toBe('51');
    expect(await purse(cardNo)).toBe(-5_000);
    expect(await transfers(cardNo)).toBe(before);
    expect(await hotlisted(cardNo)).toEqual({ listed: true, reason: 'debt' });
    expect(await balanced()).toBe(true);
  });

  it('twenty concurrent advices cannot pass the cap together (checked in the gate with the debit)', async () => {
    const { cardNo } = await issueCard(sys.http);
    const codes = await Promise.all(Array.from({ length: 20 }, () => advice(cardNo, 1_000)));
    expect(codes.filter((c) => c === '00')).toHaveLength(5);
    expect(codes.filter((c) => c === '51')).toHaveLength(15);
    expect(await purse(cardNo)).toBe(-5_000);
    expect(await balanced()).toBe(true);
  });
});

describe('uploaded transit taps', () => {
  it('keep being charged past the debt maximum (the rides happened); the card is hot-listed, and advices are then refused 51', async () => {
    const { cardNo } = await issueCard(sys.http, { balance: 1_000 });
    const cab = await taxi(sys.http);
    // Yesterday: taps older than the offline window (30 days) are refused.
    const yesterday = businessDateOf(new Date(Date.now() - 86_400_000));
    const taps = ['08:00', '09:00', '10:00'].map((hhmm) => ({ tapId: tapId('cab'), cardNo, tappedAt: at(hhmm, yesterday), amount: 3_000 }));
    const res = await upload(sys.http, cab, taps);
    expect(res.statusCode, res.body).toBe(200);
    const results = res.json().results as { status: string; fare: number }[];
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const charged = results.reduce((sum, r) => sum + r.fare, 0);
    expect(await purse(cardNo)).toBe(1_000 - charged);
    expect(1_000 - charged).toBeLessThan(-5_000);
    expect(await hotlisted(cardNo)).toEqual({ listed: true, reason: 'debt' });
    expect(await advice(cardNo, 100)).toBe('51');
    expect(await purse(cardNo)).toBe(1_000 - charged);
    expect(await balanced()).toBe(true);
  });
});
