// Hole 9 of the security review: with two API processes on one database and Redis, two refunds of
// 600 on a 1,000 payment were both approved, refund + reversal gave back 1,600, and two processes
// tried 4 PINs instead of 3. Two real server processes (tsx src/main.ts) take the racing calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServers, type ServerGroup, type ServerProcess } from '../support/processes.js';
import { adminToken } from '../support/system.js';
import { urlFor } from '../support/db-names.js';
import { idNumber, type RegisteredTerminal } from '../support/fixtures.js';
import { pinTriesMax } from '../../src/domain/payment-policy.js';
import { pinBlockFor } from './security-support.js';

let group: ServerGroup;
let a: ServerProcess;
let b: ServerProcess;
let pool: pg.Pool;
let pos: RegisteredTerminal;
const adminHeaders = { authorization: `Bearer ${adminToken}` };
let seq = 0;
const id = (p: string) => `${p}-${++seq}`;

async function call(server: ServerProcess, path: string, body: unknown, headers: Record<string, string> = adminHeaders): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function issueCard(balance: number, pin?: string): Promise<string> {
  const citizen = await call(a, '/v1/admin/citizens', { name: 'Two Process', idNumber: idNumber(), insured: true });
  expect(citizen.status).toBe(201);
  const card = await call(a, '/v1/admin/cards', { citizenId: citizen.json.citizenId, cardType: 'adult', ...(pin ? { pin } : {}) });
  expect(card.status).toBe(201);
  const cardNo = String(card.json.cardNo);
  expect((await call(a, '/v1/topups', { topupId: id('init'), cardNo, amount: balance, channel: 'bank' })).json.approved).toBe(true);
  return cardNo;
}

const purse = async (cardNo: string) => Number((await pool.query(`SELECT balance FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo])).rows[0]?.balance ?? 0);

async function expectBalanced(): Promise<void> {
  const res = await fetch(`${a.url}/v1/admin/trial-balance`, { headers: adminHeaders });
  expect(((await res.json()) as { balanced: boolean }).balanced).toBe(true);
}

beforeAll(async () => {
  // Commits wait for their batch a while, so that a payment is still in flight when its reversal comes.
  group = await startServers(2, { LEDGER_BATCH_WAIT_MS: '150' });
  [a, b] = group.servers as [ServerProcess, ServerProcess];
  pool = new pg.Pool({ connectionString: urlFor(group.dbName), max: 2 });
  const t = await call(a, '/v1/admin/terminals', { terminalId: 'POS2PROC', kind: 'pos', merchantId: 'M0000000000001' });
  expect(t.status, JSON.stringify(t.json)).toBe(201);
  pos = { ...(t.json as unknown as RegisteredTerminal), headers: { authorization: `Bearer ${String(t.json.apiKey)}` } };
}, 150_000);
afterAll(async () => {
  await pool?.end();
  await group?.stop();
}, 60_000);

const posHeaders = () => pos.headers as Record<string, string>;
const paymentsMax = 8;

describe('two API processes on one database and Redis', () => {
  it('two refunds of 600 on a 1,000 payment, one at each process: exactly one is approved', async () => {
    const cardNo = await issueCard(paymentsMax * 1000);
    for (let i = 0; i < paymentsMax; i++) {
      const paymentId = id('p');
      expect((await call(a, '/v1/payments', { paymentId, cardNo, amount: 1000 }, posHeaders())).json.approved).toBe(true);
      const answers = await Promise.all([
        call(a, '/v1/refunds', { refundId: id('r'), paymentId, amount: 600 }, posHeaders()),
        call(b, '/v1/refunds', { refundId: id('r'), paymentId, amount: 600 }, posHeaders()),
      ]);
      expect(answers.map((x) => x.json.code).sort()).toEqual(['00', '13']);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(await purse(cardNo)).toBe(paymentsMax * 600);
    await expectBalanced();
  }, 60_000);

  it('a refund at one process and the reversal at the other never give back more than the payment', async () => {
    const cardNo = await issueCard(paymentsMax * 1000);
    for (let i = 0; i < paymentsMax; i++) {
      const paymentId = id('p');
      expect((await call(a, '/v1/payments', { paymentId, cardNo, amount: 1000 }, posHeaders())).json.approved).toBe(true);
      const [refund, reversal] = await Promise.all([
        call(a, '/v1/refunds', { refundId: id('r'), paymentId, amount: 600 }, posHeaders()),
        call(b, `/v1/payments/${paymentId}/reverse`, {}, posHeaders()),
      ]);
      expect(reversal.json.approved).toBe(true); // it returns whatever the refund left
      expect(['00', '12']).toContain(refund.json.code);
      const back = await pool.query(
        `SELECT coalesce(sum(amount), 0)::int AS n FROM transfers WHERE (op_kind = 'refund' AND detail->>'paymentId' = $1) OR (op_kind = 'payment-reversal' AND op_id = $1)`,
        [paymentId],
      );
      expect(back.rows[0].n).toBe(1000);
    }
    expect(await purse(cardNo)).toBe(paymentsMax * 1000);
    await expectBalanced();
  }, 60_000);

  it('wrong PINs sent to both processes at once use up exactly 3 tries', async () => {
    const pin = '864209';
    const cardNo = await issueCard(100_000, pin);
    const amount = 30_001; // above the policy's noPinMax: a PIN is required
    const tries = Array.from({ length: 8 }, (_, i) =>
      call(i % 2 === 0 ? a : b, '/v1/payments', { paymentId: id('pin'), cardNo, amount, pinBlock: pinBlockFor(String(100000 + i), cardNo, pos) }, posHeaders()),
    );
    const codes = (await Promise.all(tries)).map((x) => String(x.json.code));
    expect(codes.filter((c) => c === '55')).toHaveLength(pinTriesMax - 1);
    expect(codes.filter((c) => c === '75')).toHaveLength(8 - (pinTriesMax - 1));
    const row = await pool.query(`SELECT pin_failures FROM cards WHERE card_no = $1`, [cardNo]);
    expect(row.rows[0].pin_failures).toBe(pinTriesMax);
    expect(await purse(cardNo)).toBe(100_000);
    await expectBalanced();
  }, 60_000);

  it('a reversal at one process while its payment is in flight at the other: reversed at once; an early one blocks the payment', async () => {
    const cardNo = await issueCard(5000);
    const paymentId = id('race');
    const payment = call(a, '/v1/payments', { paymentId, cardNo, amount: 1200 }, posHeaders());
    await new Promise((r) => setTimeout(r, 50));
    const reversal = await call(b, `/v1/payments/${paymentId}/reverse`, {}, posHeaders());
    expect((await payment).json.code).toBe('00');
    expect(reversal.json).toEqual({ approved: true, code: '00', balance: 5000 });
    const early = id('early');
    expect((await call(b, `/v1/payments/${early}/reverse`, {}, posHeaders())).json).toEqual({ approved: false, code: '25' });
    expect((await call(a, '/v1/payments', { paymentId: early, cardNo, amount: 1200 }, posHeaders())).json).toEqual({ approved: false, code: '12' });
    expect(await purse(cardNo)).toBe(5000);
    await expectBalanced();
  }, 60_000);

  it("two medical settlements of one citizen, one at each process, split as if one after the other", async () => {
    const hospital = await call(a, '/v1/admin/terminals', { terminalId: 'HSP2PROC', kind: 'pos', merchantId: 'M0000000000101' });
    expect(hospital.status).toBe(201);
    const headers = { authorization: `Bearer ${String(hospital.json.apiKey)}` };
    const bill = [{ code: 'W1', amount: 100_000, eligible: true }];
    const insuredCard = async () => {
      const cardNo = await issueCard(1000);
      expect((await call(a, `/v1/admin/medical-accounts/${cardNo}/credit`, { creditId: id('mc'), amount: 300_000 })).status).toBe(200);
      return cardNo;
    };
    // The oracle: the same two claims one after the other, at one process.
    const oracleCard = await insuredCard();
    const oracle = [];
    for (let i = 0; i < 2; i++) oracle.push((await call(a, '/v1/medical/settle', { claimId: id('oc'), cardNo: oracleCard, items: bill }, headers)).json);
    const cardNo = await insuredCard();
    const raced = await Promise.all([
      call(a, '/v1/medical/settle', { claimId: id('mc'), cardNo, items: bill }, headers),
      call(b, '/v1/medical/settle', { claimId: id('mc'), cardNo, items: bill }, headers),
    ]);
    const sum = (answers: Record<string, unknown>[], field: string) => answers.reduce((n, x) => n + Number(x[field]), 0);
    expect(raced.every((x) => x.json.approved === true)).toBe(true);
    for (const field of ['fund', 'personal', 'purse', 'cash']) expect(sum(raced.map((x) => x.json), field)).toBe(sum(oracle, field));
    await expectBalanced();
  }, 60_000);
});
