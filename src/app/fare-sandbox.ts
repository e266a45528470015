// Fare-policy sandbox (DESIGN §14, docs/registry.md): re-rates a business day's real taps under a
// draft policy and under the policy in force, without moving money, as a PostgreSQL-backed job
// with progress; the result compares revenue per operator and route, per card type and district,
// and the distribution of per-card differences.
import { randomUUID } from 'node:crypto';
import { parsePolicy, PolicyError, type FarePolicy } from '../domain/fare/index.js';
import { SandboxTotals, type SandboxTap } from '../domain/fare/sandbox.js';
import { businessDayBounds } from '../domain/business-day.js';
import { maskCardNo } from '../domain/card-number.js';
import { fenToJson } from '../domain/money.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { PgFareSandbox, SandboxJobRow } from '../adapters/postgres/fare-sandbox.js';
import type { StoredTap } from '../adapters/postgres/transit-taps.js';

/** Cards re-rated per batch (one taps query, one progress update). */
export const sandboxCardsPerBatch = 500;

export interface FareSandboxDeps {
  store: PgFareSandbox;
  /** The accepted taps of the given cards on a day (transit's taps table). */
  tapsOfDay(cardNos: readonly string[], businessDate: string): Promise<Map<string, StoredTap[]>>;
  /** The policy in force on a business date. */
  policyInForce(businessDate: string): Promise<FarePolicy>;
  clock: Clock;
  log: Logger;
}

export type SubmitResult = { ok: true; jobId: string } | { ok: false; detail: string };

export interface SandboxJobView {
  jobId: string;
  businessDate: string;
  state: SandboxJobRow['state'];
  progress: number;
  result?: unknown;
  error?: string;
}

const json = (fen: bigint): number => fenToJson(fen);

export class FareSandbox {
  private chain: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly deps: FareSandboxDeps) {}

  async submit(businessDate: string, policy: unknown): Promise<SubmitResult> {
    try {
      parsePolicy(policy);
    } catch (error) {
      if (error instanceof PolicyError) return { ok: false, detail: error.message };
      throw error;
    }
    const jobId = randomUUID();
    await this.deps.store.insert(jobId, businessDate, policy, this.deps.clock.now());
    this.enqueue(jobId);
    return { ok: true, jobId };
  }

  async view(jobId: string): Promise<SandboxJobView | null> {
    const row = await this.deps.store.job(jobId);
    if (!row) return null;
    return { jobId: row.jobId, businessDate: row.businessDate, state: row.state, progress: row.progress, ...(row.result ? { result: row.result } : {}), ...(row.error ? { error: row.error } : {}) };
  }

  /** Jobs left queued or running by a stopped process run again (they move nothing, so rerunning is safe). */
  async resume(): Promise<void> {
    for (const jobId of await this.deps.store.unfinished()) this.enqueue(jobId);
  }

  /** Stops between batches; an interrupted job is resumed at the next start. */
  async close(): Promise<void> {
    this.closing = true;
    await this.chain;
  }

  /** Resolves when every job submitted so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(jobId: string): void {
    // One job at a time: a re-rating is CPU work on the shared cores.
    this.chain = this.chain.then(() =>
      this.run(jobId).catch(async (error: unknown) => {
        this.deps.log.error({ err: error, jobId }, 'fare sandbox job failed');
        await this.deps.store.update(jobId, { state: 'failed', error: error instanceof Error ? error.message : String(error) }, this.deps.clock.now()).catch(() => undefined);
      }),
    );
  }

  private async run(jobId: string): Promise<void> {
    const job = await this.deps.store.job(jobId);
    if (!job || this.closing) return;
    const draft = parsePolicy(job.policy);
    const inForce = await this.deps.policyInForce(job.businessDate);
    await this.deps.store.update(jobId, { state: 'running', progress: 0 }, this.deps.clock.now());
    const riders = await this.deps.store.ridersOfDay(job.businessDate);
    const closeAt = businessDayBounds(job.businessDate).end;
    const totals = new SandboxTotals();
    for (let from = 0; from < riders.length; from += sandboxCardsPerBatch) {
      if (this.closing) return;
      const batch = riders.slice(from, from + sandboxCardsPerBatch);
      const taps = await this.deps.tapsOfDay(batch.map((r) => r.cardNo), job.businessDate);
      for (const rider of batch) totals.addCard(rider, (taps.get(rider.cardNo) ?? []).map(sandboxTapOf), inForce, draft, closeAt);
      await this.deps.store.update(jobId, { progress: Math.floor(((from + batch.length) * 100) / riders.length) }, this.deps.clock.now());
    }
    const chargedFen = await this.deps.store.chargedFen(job.businessDate);
    await this.deps.store.update(jobId, { state: 'completed', progress: 100, result: resultOf(job.businessDate, inForce, draft, totals, chargedFen) }, this.deps.clock.now());
  }
}

function sandboxTapOf(t: StoredTap): SandboxTap {
  return { kind: t.kind, terminalId: t.terminalId, routeId: t.routeId ?? undefined, stationId: t.stationId ?? undefined, at: t.tappedAt, meterAmountFen: t.kind === 'taxi' ? t.fareFen : undefined, operatorId: t.operatorId };
}

function money(m: { inForceFen: bigint; draftFen: bigint }) {
  return { inForce: json(m.inForceFen), draft: json(m.draftFen), change: json(m.draftFen - m.inForceFen) };
}

function resultOf(businessDate: string, inForce: FarePolicy, draft: FarePolicy, t: SandboxTotals, chargedFen: bigint) {
  return {
    businessDate,
    policyInForce: inForce.version,
    draftVersion: draft.version,
    cards: t.cards,
    taps: t.taps,
    draftDeclinedTaps: t.draftDeclined,
    /** What the day's taps were actually charged (the in-force re-rating should agree, closures aside). */
    charged: json(chargedFen),
    revenue: money(t),
    byOperator: [...t.byOperator].sort(([a], [b]) => a.localeCompare(b)).map(([operatorId, m]) => ({ operatorId, ...money(m) })),
    byRoute: [...t.byRoute]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, m]) => {
        const [operatorId, routeId] = key.split('\u0000') as [string, string];
        return { operatorId, routeId, ...money(m) };
      }),
    byCardType: [...t.byCardType].sort(([a], [b]) => a.localeCompare(b)).map(([cardType, m]) => ({ cardType, cards: m.cards, ...money(m) })),
    byDistrict: [...t.byDistrict].sort(([a], [b]) => a.localeCompare(b)).map(([district, m]) => ({ district, cards: m.cards, ...money(m) })),
    perCard: {
      more: t.more,
      less: t.less,
      same: t.same,
      largestChanges: t.changes.map((c) => ({ card: maskCardNo(c.cardNo), cardType: c.cardType, inForce: json(c.inForceFen), draft: json(c.draftFen), change: json(c.changeFen) })),
    },
  };
}
