// Medical claims across failures and restarts (issue: social-security medical payments): a claim
// write lost after the ledger commit is completed exactly once (retry, next claim, start-up), the
// year-to-date survives a restart, and it is rebuilt exactly from the claims.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from 'prom-client';
import { createTestSystem, testConfig, type TestSystem } from '../support/system.js';
import { admin, issueCard, medicalPos, type RegisteredTerminal } from '../support/fixtures.js';
import { buildSystem, type System } from '../../src/system.js';
import { createLogger } from '../../src/platform/logger.js';
import { businessDateOf } from '../../src/domain/business-day.js';
import { medicalYearOf } from '../../src/domain/medical/index.js';

let sys: TestSystem;
let restarted: System | null = null;
let hospital: RegisteredTerminal;
let cardNo: string;
let citizenId: number;

beforeAll(async () => {
  sys = await createTestSystem();
  hospital = await medicalPos(sys.http);
  ({ cardNo, citizenId } = await issueCard(sys.http, { balance: 10_000, medical: 100_000 }));
});
afterAll(async () => {
  await restarted?.close().catch(() => undefined);
  await sys.destroy();
});

const crash = () => {
  throw new Error('simulated crash between the ledger commit and the claim write');
};

function settle(app: System, claimId: string, amount: number) {
  return app.http.inject({
    method: 'POST',
    url: '/v1/medical/settle',
    headers: hospital.headers,
    payload: { claimId, cardNo, items: [{ code: 'E', amount, eligible: true }], usePurse: true },
  });
}

async function ytd(app: System): Promise<{ deductibleUsed: number; fundPaid: number }> {
  const r = await app.pool.query<{ d: bigint; f: bigint }>(`SELECT deductible_used AS d, fund_paid AS f FROM medical_ytd WHERE citizen_id = $1 AND year = $2`, [
    citizenId,
    medicalYearOf(businessDateOf(new Date())),
  ]);
  return { deductibleUsed: Number(r.rows[0]?.d ?? 0n), fundPaid: Number(r.rows[0]?.f ?? 0n) };
}

async function counts(app: System, claimId: string): Promise<{ claims: number; transfers: number; status: string | null }> {
  const c = await app.pool.query<{ status: string }>(`SELECT status FROM medical_claims WHERE claim_id = $1`, [claimId]);
  const t = await app.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transfers WHERE op_id = $1 AND op_kind LIKE 'medical-%'`, [claimId]);
  return { claims: c.rowCount ?? 0, transfers: t.rows[0]!.n, status: c.rows[0]?.status ?? null };
}

describe('a claim write lost after the ledger commit', () => {
  it('the answer is the approval (the money moved); a retry completes the claim and the year-to-date once', async () => {
    expect((await settle(sys, 'd-1', 50_000)).json()).toMatchObject({ approved: true, fund: 0, personal: 50_000 });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 50_000, fundPaid: 0 });

    sys.medical.service.hooks.beforeClaimWrite = crash;
    const first = await settle(sys, 'd-2', 40_000);
    sys.medical.service.hooks = {};
    // 30,000 fills the deductible; the fund pays 0.70 × 10,000.
    expect(first.json()).toMatchObject({ approved: true, code: '00', fund: 7_000, personal: 33_000, purse: 0, cash: 0 });
    expect(await counts(sys, 'd-2')).toEqual({ claims: 0, transfers: 2, status: null });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 50_000, fundPaid: 0 });
    expect(sys.logLines.some((l) => l.includes('medical claim write failed after the ledger commit'))).toBe(true);

    const retry = await settle(sys, 'd-2', 40_000);
    expect(retry.json()).toEqual(first.json());
    expect(await counts(sys, 'd-2')).toEqual({ claims: 1, transfers: 2, status: 'settled' });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 7_000 });
    expect((await settle(sys, 'd-2', 40_000)).json()).toEqual(first.json());
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 7_000 });
    expect((await settle(sys, 'd-2', 40_001)).statusCode).toBe(409);
  });

  it('the next claim of the citizen completes it first, so its split sees the whole year', async () => {
    sys.medical.service.hooks.beforeClaimWrite = crash;
    expect((await settle(sys, 'd-3', 10_000)).json()).toMatchObject({ approved: true, fund: 7_000, personal: 3_000 });
    sys.medical.service.hooks = {};
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 7_000 });
    // Presettle (and settle) of another claim complete d-3 before reading the year-to-date.
    const pre = await sys.http.inject({
      method: 'POST',
      url: '/v1/medical/presettle',
      headers: hospital.headers,
      payload: { claimId: 'd-4', cardNo, items: [{ code: 'E', amount: 1_000, eligible: true }] },
    });
    expect(pre.json()).toEqual({ fund: 700, personal: 300, purse: 0, cash: 0, total: 1_000 });
    expect(await counts(sys, 'd-3')).toEqual({ claims: 1, transfers: 2, status: 'settled' });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 14_000 });
  });

  it('a lost cancel write is completed by the retry, and the year-to-date is given back once', async () => {
    expect((await settle(sys, 'd-5', 2_000)).json()).toMatchObject({ approved: true, fund: 1_400, personal: 600 });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 15_400 });
    const medicalBefore = (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json().medical as number;
    sys.medical.service.hooks.beforeClaimWrite = crash;
    expect((await sys.http.inject({ method: 'POST', url: '/v1/medical/d-5/cancel', headers: hospital.headers, payload: {} })).json()).toEqual({ approved: true, code: '00' });
    sys.medical.service.hooks = {};
    expect(await counts(sys, 'd-5')).toEqual({ claims: 1, transfers: 4, status: 'settled' });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 15_400 });
    expect((await sys.http.inject({ method: 'POST', url: '/v1/medical/d-5/cancel', headers: hospital.headers, payload: {} })).json()).toEqual({ approved: true, code: '00' });
    expect(await counts(sys, 'd-5')).toEqual({ claims: 1, transfers: 4, status: 'cancelled' });
    expect(await ytd(sys)).toEqual({ deductibleUsed: 80_000, fundPaid: 14_000 });
    const medicalAfter = (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json().medical as number;
    expect(medicalAfter - medicalBefore).toBe(600);
  });
});

describe('restart', () => {
  it('a new process completes lost claim writes at start, keeps the year-to-date, and agrees with a rebuild', async () => {
    sys.medical.service.hooks.beforeClaimWrite = crash;
    expect((await settle(sys, 'd-6', 3_000)).json()).toMatchObject({ approved: true, fund: 2_100, personal: 900 });
    sys.medical.service.hooks = {};
    expect(await counts(sys, 'd-6')).toMatchObject({ claims: 0, transfers: 2 });
    await sys.close();

    // Same database and Redis prefix: the process after the crash.
    const config = testConfig(sys.dbName);
    register.clear(); // the metrics plugin registers process metrics once per process
    restarted = await buildSystem(config, { logger: createLogger('silent') });
    await restarted.start();
    expect(await counts(restarted, 'd-6')).toEqual({ claims: 1, transfers: 2, status: 'settled' });
    expect(await ytd(restarted)).toEqual({ deductibleUsed: 80_000, fundPaid: 16_100 });

    // The restarted process splits on the stored year: the deductible is used, the fund pays 70%.
    const pre = await restarted.http.inject({
      method: 'POST',
      url: '/v1/medical/presettle',
      headers: hospital.headers,
      payload: { claimId: 'd-7', cardNo, items: [{ code: 'E', amount: 10_000, eligible: true }] },
    });
    expect(pre.json()).toEqual({ fund: 7_000, personal: 3_000, purse: 0, cash: 0, total: 10_000 });
    // Replays of claims settled before the restart answer the same.
    expect((await settle(restarted, 'd-2', 40_000)).json()).toMatchObject({ approved: true, fund: 7_000, personal: 33_000 });

    const { claims } = restarted.medical;
    expect(await claims.ytdMismatches()).toEqual([]);
    const rows = await claims.ytdRows();
    await restarted.pool.query(`DELETE FROM medical_ytd`);
    expect(await claims.ytdMismatches()).toHaveLength(1);
    expect(await claims.rebuildYtd()).toBe(1);
    expect(await claims.ytdRows()).toEqual(rows);
    // A wrong row is found and rebuilt too.
    await restarted.pool.query(`UPDATE medical_ytd SET fund_paid = fund_paid + 1`);
    expect((await claims.ytdMismatches())[0]).toMatchObject({ stored: { fundPaidFen: 16_101n }, fromClaims: { fundPaidFen: 16_100n } });
    await claims.rebuildYtd();
    expect(await claims.ytdRows()).toEqual(rows);

    const tb = await restarted.http.inject({ method: 'GET', url: '/v1/admin/trial-balance', headers: admin });
    expect(tb.json()).toMatchObject({ balanced: true, total: 0 });
  });
});
