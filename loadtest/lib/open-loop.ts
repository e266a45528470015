// Open-loop load at a fixed arrival rate: request i is due at start + i/rate whatever happened to
// the earlier ones, and its latency is measured from that INTENDED time, so time spent queued in
// the client or behind a stalled server counts (no coordinated omission). Bounded in count and time.
import { performance } from 'node:perf_hooks';
import type { Outcome, Workload } from './scenario.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export const stepRequestsMax = 2_000_000;
export const stepDurationMsMax = 600_000;

export interface StepOptions {
  ratePerS: number;
  durationMs: number;
  /** Waiting for the last answers after the last send; later answers count as errors. */
  drainMs: number;
  /** First sequence number (idempotency ids stay unique across steps). */
  seqStart: number;
}

export interface StepResult {
  ratePerS: number;
  seqStart: number;
  durationMs: number;
  sent: number;
  answered: number;
  approved: number;
  declined: Record<string, number>;
  overload: Record<string, number>;
  errors: Record<string, number>;
  errorCount: number;
  overloadCount: number;
  declineCount: number;
  approvalsPerS: number;
  /** Answers per second over the send window (approvals, declines, errors alike). */
  answeredPerS: number;
  latencyMs: LatencySummary;
  /** How late the generator itself sent requests: a large value means the client was CPU-starved. */
  sendLagMs: LatencySummary;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

export async function runStep(workload: Workload, options: StepOptions): Promise<StepResult> {
  const { ratePerS, durationMs } = options;
  if (!(ratePerS > 0)) throw new RangeError('rate must be positive');
  if (durationMs <= 0 || durationMs > stepDurationMsMax) throw new RangeError(`duration must be 1..${stepDurationMsMax} ms`);
  const total = Math.min(stepRequestsMax, Math.max(1, Math.floor((ratePerS * durationMs) / 1000)));
  const intervalMs = 1000 / ratePerS;
  const latency = new LatencyRecorder();
  const sendLag = new LatencyRecorder();
  const result: StepResult = {
    ratePerS,
    seqStart: options.seqStart,
    durationMs,
    sent: 0,
    answered: 0,
    approved: 0,
    declined: {},
    overload: {},
    errors: {},
    errorCount: 0,
    overloadCount: 0,
    declineCount: 0,
    approvalsPerS: 0,
    answeredPerS: 0,
    latencyMs: latency.summary(),
    sendLagMs: sendLag.summary(),
  };
  let closed = false;
  let allSent!: () => void;
  let allAnswered!: () => void;
  const sentPromise = new Promise<void>((r) => (allSent = r));
  const answeredPromise = new Promise<void>((r) => (allAnswered = r));

  const record = (intended: number, outcome: Outcome): void => {
    if (closed) return;
    latency.record(performance.now() - intended);
    result.answered++;
    switch (outcome.kind) {
      case 'approved':
        result.approved++;
        break;
      case 'declined':
        bump(result.declined, outcome.code);
        result.declineCount++;
        break;
      case 'overload':
        bump(result.overload, outcome.code);
        result.overloadCount++;
        break;
      case 'error':
        bump(result.errors, outcome.reason);
        result.errorCount++;
        break;
    }
    if (result.answered === total) allAnswered();
  };

  const start = performance.now() + 2;
  let i = 0;
  const tick = (): void => {
    const now = performance.now();
    while (i < total && start + i * intervalMs <= now) {
      const intended = start + i * intervalMs;
      sendLag.record(now - intended);
      const seq = options.seqStart + i;
      workload.fire(seq).then(
        (outcome) => record(intended, outcome),
        (error: unknown) => record(intended, { kind: 'error', reason: (error as Error).message }),
      );
      i++;
    }
    result.sent = i;
    if (i < total) setTimeout(tick, Math.min(1, Math.max(0, start + i * intervalMs - now)));
    else allSent();
  };
  setTimeout(tick, 0);
  await sentPromise;
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([answeredPromise, new Promise<void>((r) => (drainTimer = setTimeout(r, options.drainMs)))]);
  clearTimeout(drainTimer);
  closed = true;
  const unanswered = result.sent - result.answered;
  if (unanswered > 0) {
    result.errors.unanswered = unanswered;
    result.errorCount += unanswered;
    // Unanswered requests waited at least until now: count them at that latency, not as missing.
    const waited = performance.now();
    for (let k = 0; k < unanswered; k++) latency.record(waited - (start + (total - 1 - k) * intervalMs));
  }
  result.latencyMs = latency.summary();
  result.sendLagMs = sendLag.summary();
  result.approvalsPerS = (result.approved * 1000) / durationMs;
  result.answeredPerS = (result.answered * 1000) / durationMs;
  return result;
}
