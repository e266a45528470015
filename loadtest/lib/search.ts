// Finding the sustained rate: climb a fixed ladder of arrival rates (the same ladder for every
// target, so the core and the baseline are measured at the same rates) until a step fails, then
// bisect between the last pass and the first failure. A step passes when p99 ≤ the latency limit
// and there were no errors and no overload refusals.
import { loadavg } from 'node:os';
import { runStep, type StepResult } from './open-loop.js';
import { CpuMeter, type CpuReport } from './cpu.js';
import type { Probes, ProbeReport } from './probes.js';
import type { Workload } from './scenario.js';
import { fmtMs } from './stats.js';

export const defaultLadder = [250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 8000, 10_000, 12_500, 15_000];

export interface SearchOptions {
  label: string;
  ladder: number[];
  stepMs: number;
  pauseMs: number;
  drainMs: number;
  p99MaxMs: number;
  /** Bisection steps after the first failure. */
  refineSteps: number;
  /** A ladder step that failed marginally is run once more before it counts (other processes share the machine). */
  retryFailures: boolean;
  warmupRate: number;
  warmupMs: number;
  serverPids: number[];
  /** Commit and PING probes beside each step, and the bench database whose backends count as its PostgreSQL CPU. */
  probes?: Probes;
  database?: string;
  log: (line: string) => void;
}

export interface StepRecord extends StepResult {
  label: string;
  pass: boolean;
  why: string;
  cpu: CpuReport;
  /** CPU time per answered request, µs (independent of how busy the machine was). */
  cpuUsPerRequest: { server: number; runner: number; postgres: number; redis: number };
  loadAvg1m: number;
  probes?: ProbeReport;
  /** Committed transfers of the step per PostgreSQL transaction: the group commit's batch size. */
  transfersPerCommit?: number;
}

export function cpuPerRequest(cpu: CpuReport, answered: number): StepRecord['cpuUsPerRequest'] {
  const us = (pct: number) => (answered > 0 ? Math.round(((pct / 100) * cpu.seconds * 1e6) / answered) : 0);
  return { server: us(cpu.server), runner: us(cpu.runner), postgres: us(cpu.postgres), redis: us(cpu.redis) };
}

export interface SearchResult {
  label: string;
  steps: StepRecord[];
  sustained: StepRecord | null;
  firstFailure: StepRecord | null;
}

export function judge(step: StepResult, p99MaxMs: number): { pass: boolean; why: string } {
  const reasons: string[] = [];
  if (step.errorCount > 0) reasons.push(`${step.errorCount} errors (${Object.entries(step.errors).map(([k, v]) => `${k}: ${v}`).join(', ')})`);
  if (step.overloadCount > 0) reasons.push(`${step.overloadCount} overload refusals`);
  if (step.latencyMs.p99 > p99MaxMs) reasons.push(`p99 ${fmtMs(step.latencyMs.p99)} ms > ${p99MaxMs} ms`);
  if (step.approved === 0) reasons.push('no approvals');
  return { pass: reasons.length === 0, why: reasons.join('; ') || 'ok' };
}

/** A failure by latency alone and by less than 3× the limit may be a neighbour's burst: worth a second try. */
export function marginal(step: StepResult, p99MaxMs: number): boolean {
  return step.errorCount === 0 && step.overloadCount === 0 && step.latencyMs.p99 <= 3 * p99MaxMs;
}

export function describeStep(s: StepRecord): string {
  const l = s.latencyMs;
  const declines = s.declineCount > 0 ? ` declines ${JSON.stringify(s.declined)}` : '';
  return (
    `${s.label} ${s.ratePerS}/s: ${s.pass ? 'PASS' : 'FAIL'} approvals ${s.approvalsPerS.toFixed(0)}/s ` +
    `p50 ${fmtMs(l.p50)} p90 ${fmtMs(l.p90)} p99 ${fmtMs(l.p99)} p99.9 ${fmtMs(l.p999)} max ${fmtMs(l.max)} ms, ` +
    `send lag p99 ${fmtMs(s.sendLagMs.p99)} ms, cpu% server ${s.cpu.server} runner ${s.cpu.runner} pg ${s.cpu.postgres}+${s.cpu.pgOther} redis ${s.cpu.redis} other ${s.cpu.other}, ` +
    (s.probes ? `bare commit p50/p99 ${fmtMs(s.probes.commitMs.p50)}/${fmtMs(s.probes.commitMs.p99)} ms, redis ping p99 ${fmtMs(s.probes.redisPingMs.p99)} ms, ` : '') +
    `µs/req server ${s.cpuUsPerRequest.server} pg ${s.cpuUsPerRequest.postgres} redis ${s.cpuUsPerRequest.redis} runner ${s.cpuUsPerRequest.runner}` +
    `${declines}${s.pass ? '' : ` (${s.why})`}`
  );
}

export class SequenceSource {
  private next = 0;
  take(count: number): number {
    const start = this.next;
    this.next += count;
    return start;
  }
}

export async function measure(workload: Workload, seq: SequenceSource, rate: number, options: SearchOptions): Promise<StepRecord> {
  const loadAvg1m = loadavg()[0]!;
  const pgPids = options.probes && options.database ? await options.probes.backendPids(options.database) : [];
  const meter = new CpuMeter(options.serverPids, pgPids);
  options.probes?.start();
  const step = await runStep(workload, { ratePerS: rate, durationMs: options.stepMs, drainMs: options.drainMs, seqStart: seq.take(Math.ceil((rate * options.stepMs) / 1000) + 1) });
  const cpu = meter.report(options.probes && options.database ? await options.probes.backendPids(options.database) : []);
  const probes = await options.probes?.stop();
  const verdict = judge(step, options.p99MaxMs);
  const record: StepRecord = { ...step, label: options.label, ...verdict, cpu, cpuUsPerRequest: cpuPerRequest(cpu, step.answered), loadAvg1m, ...(probes ? { probes } : {}) };
  options.log(describeStep(record));
  await new Promise((r) => setTimeout(r, options.pauseMs));
  return record;
}

export async function findSustainedRate(workload: Workload, seq: SequenceSource, options: SearchOptions): Promise<SearchResult> {
  const steps: StepRecord[] = [];
  if (options.warmupMs > 0) {
    // JIT, connections, buffer caches: not recorded.
    await runStep(workload, { ratePerS: options.warmupRate, durationMs: options.warmupMs, drainMs: options.drainMs, seqStart: seq.take(Math.ceil((options.warmupRate * options.warmupMs) / 1000) + 1) });
    await new Promise((r) => setTimeout(r, options.pauseMs));
  }
  let best: StepRecord | null = null;
  let failure: StepRecord | null = null;
  for (const rate of options.ladder) {
    let step = await measure(workload, seq, rate, options);
    steps.push(step);
    if (!step.pass && options.retryFailures && marginal(step, options.p99MaxMs)) {
      step = await measure(workload, seq, rate, options);
      steps.push(step);
    }
    if (step.pass) best = step;
    else {
      failure = step;
      break;
    }
  }
  if (!best && failure) {
    // Even the lowest ladder rate failed: probe below it so the table still shows a figure.
    for (let rate = Math.floor(options.ladder[0]! / 2); rate >= 25; rate = Math.floor(rate / 2)) {
      const step = await measure(workload, seq, rate, options);
      steps.push(step);
      if (step.pass) {
        best = step;
        break;
      }
    }
  }
  if (best && failure && best.ratePerS < failure.ratePerS) {
    let low = best.ratePerS;
    let high = failure.ratePerS;
    for (let k = 0; k < options.refineSteps; k++) {
      const rate = Math.round((low + high) / 2 / 50) * 50;
      if (rate <= low || rate >= high) break;
      const step = await measure(workload, seq, rate, options);
      steps.push(step);
      if (step.pass) {
        low = rate;
        if (step.approvalsPerS > best.approvalsPerS) best = step;
      } else high = rate;
    }
  }
  return { label: options.label, steps, sustained: best, firstFailure: failure };
}
