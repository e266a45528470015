// Helpers of the nightly-job tests: run a job through the HTTP API and wait for it; make a day's
// money (payments, refunds through the API; fares straight through the ledger writer).
import type { TestSystem } from '../support/system.js';
import { admin } from '../support/fixtures.js';
import { rm } from 'node:fs/promises';
import { expect } from 'vitest';
import type { RegisteredTerminal } from '../support/fixtures.js';

export const runWaitMsMax = 20_000;

export interface RunView {
  jobId: string;
  state: string;
  progress: number;
  attempts: number;
  rerun: boolean;
  businessDate: string;
  result: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Polls GET /v1/admin/jobs/:name/:jobId until the run is completed or failed; a run that failed an
 * attempt fails the wait at once unless `retries` is set (tests that crash a run on purpose).
 */
export async function waitForRun(sys: TestSystem, name: string, jobId: string, opts: { retries?: boolean; waitMs?: number } = {}): Promise<RunView> {
  const waitMs = opts.waitMs ?? runWaitMsMax;
  const until = Date.now() + waitMs;
  while (true) {
    const res = await sys.http.inject({ method: 'GET', url: `/v1/admin/jobs/${name}/${jobId}`, headers: admin });
    if (res.statusCode === 200) {
      const run = res.json() as RunView;
      if (run.state === 'completed' || run.state === 'failed') return run;
      if (run.state === 'retrying' && !opts.retries) throw new Error(`run ${jobId} failed an attempt: ${run.error}`);
    }
    if (Date.now() > until) throw new Error(`run ${jobId} did not finish in ${waitMs} ms: ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a job for a date through the API and waits for it. */
export async function runJob(sys: TestSystem, name: string, businessDate: string, rerun = false, opts: { retries?: boolean } = {}): Promise<RunView> {
  const res = await sys.http.inject({ method: 'POST', url: `/v1/admin/jobs/${name}`, headers: admin, payload: { businessDate, rerun } });
  if (res.statusCode !== 202) throw new Error(`enqueue ${name} ${businessDate}: ${res.statusCode} ${res.body}`);
  return waitForRun(sys, name, (res.json() as { jobId: string }).jobId, opts);
}


let seq = 0;
export const nextId = (prefix: string): string => `${prefix}-${++seq}`;

/** A day's money through the real API: a payment at a POS (approved), answering its transaction. */
export async function pay(sys: TestSystem, t: RegisteredTerminal, cardNo: string, amount: number, paymentId = nextId('pay')): Promise<string> {
  const res = await sys.http.inject({ method: 'POST', url: '/v1/payments', headers: t.headers, payload: { paymentId, cardNo, amount } });
  expect(res.json().approved, res.body).toBe(true);
  return paymentId;
}

export async function refund(sys: TestSystem, t: RegisteredTerminal, paymentId: string, amount: number, refundId = nextId('ref')): Promise<string> {
  const res = await sys.http.inject({ method: 'POST', url: '/v1/refunds', headers: t.headers, payload: { refundId, paymentId, amount } });
  expect(res.json().approved, res.body).toBe(true);
  return refundId;
}

/**
 * A fare as the ledger records it (purse → operator receivable), written straight through the
 * ledger writer: these tests are about the nightly jobs, not the tap path.
 */
export async function fare(sys: TestSystem, o: { cardNo: string; operatorId: string; amount: number; businessDate: string; terminalId?: string; tapId?: string }): Promise<string> {
  const tapId = o.tapId ?? nextId('tap');
  const outcome = await sys.ledger.submit({
    opKind: 'tap',
    opId: tapId,
    requestHash: tapId,
    cardNo: o.cardNo,
    terminalId: o.terminalId ?? null,
    businessDate: o.businessDate,
    legs: [{ debit: { kind: 'purse', ownerId: o.cardNo }, credit: { kind: 'receivable', ownerId: o.operatorId }, amountFen: BigInt(o.amount) }],
  });
  expect(outcome.status).toBe('committed');
  // The cached balance did not see this write: let the card reload from the ledger.
  await sys.gate.forget(o.cardNo);
  return tapId;
}

export async function removeReports(sys: TestSystem): Promise<void> {
  await rm(sys.config.reportsDir, { recursive: true, force: true });
}
