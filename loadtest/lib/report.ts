// Renders the runner's results as Markdown tables (pasted into docs/performance.md) and JSON.
import type { MachineInfo } from './machine.js';
import type { SearchResult, StepRecord } from './search.js';
import type { ProfileSummary } from './profile.js';
import { fmtMs } from './stats.js';
import type { WriterResult } from './writer-bench.js';

export interface PhaseResult {
  name: string;
  database: string;
  cards: number;
  env: Record<string, string>;
  uptimeBefore: string;
  search?: SearchResult;
  fixed?: StepRecord[];
  /** Approved answers seen by the client vs payment transfers committed in PostgreSQL for the phase. */
  durability?: { approvedAnswers: number; committedTransfers: number; transactions: number };
  trialBalance?: { balanced: boolean; total: string };
  warmMs?: number;
  vacuum?: { ms: number; deadBefore: number; autovacuum: string };
  /** Busy share of the machine (0..1) just before the phase, when --wait-quiet was given. */
  busyBefore?: number;
  note?: string;
}

export interface RunResults {
  runId: string;
  command: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  seeds: { database: string; cards: number; ms: number; created: number }[];
  phases: PhaseResult[];
  profile?: ProfileSummary & { rate: number };
  writer?: WriterResult[];
  finishedAt?: string;
}

const stepHeader = '| rate offered /s | result | approvals /s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | declines | errors / 503 | transfers per commit | send lag p99 ms | bare commit p50 / p99 ms | CPU % server / runner / pg bench / pg other / redis / other | CPU µs/req server / pg / redis / runner | load 1m |';
const stepRule = '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|';

function stepRow(s: StepRecord): string {
  const l = s.latencyMs;
  return `| ${s.ratePerS} | ${s.pass ? 'pass' : 'FAIL'} | ${s.approvalsPerS.toFixed(0)} | ${fmtMs(l.p50)} | ${fmtMs(l.p90)} | ${fmtMs(l.p99)} | ${fmtMs(l.p999)} | ${fmtMs(l.max)} | ${s.declineCount} | ${s.errorCount} / ${s.overloadCount} | ${s.transfersPerCommit ?? ''} | ${fmtMs(s.sendLagMs.p99)} | ${s.probes ? `${fmtMs(s.probes.commitMs.p50)} / ${fmtMs(s.probes.commitMs.p99)}` : ''} | ${s.cpu.server} / ${s.cpu.runner} / ${s.cpu.postgres} / ${s.cpu.pgOther} / ${s.cpu.redis} / ${s.cpu.other} | ${s.cpuUsPerRequest.server} / ${s.cpuUsPerRequest.postgres} / ${s.cpuUsPerRequest.redis} / ${s.cpuUsPerRequest.runner} | ${s.loadAvg1m.toFixed(2)} |`;
}

export function sustainedCell(r: SearchResult | undefined): string {
  const s = r?.sustained;
  if (!s) return 'none';
  return `${s.approvalsPerS.toFixed(0)}/s (p50 ${fmtMs(s.latencyMs.p50)}, p99 ${fmtMs(s.latencyMs.p99)}, p99.9 ${fmtMs(s.latencyMs.p999)} ms)`;
}

export function renderMarkdown(results: RunResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(`# Load test ${results.runId}`, '');
  out.push(`- command: \`${results.command}\``);
  const modified = m.srcChanges.filter((c) => c.startsWith(' M') || c.startsWith('M')).map((c) => c.slice(3));
  const dirty = m.srcChanges.length > 0 ? ` plus ${m.srcChanges.length} uncommitted changes under src/ and migrations/ (modified: ${modified.join(', ') || 'none'})` : '';
  out.push(`- date: ${m.date}; git ${m.gitCommit}${dirty}`);
  out.push(`- machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.kernel}`);
  out.push(`- node ${m.node}; ${m.postgres} (${Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')}); Redis ${m.redis} (${m.redisPersistence})`);
  out.push(`- before the run: \`${m.uptime}\``);
  out.push(`- busiest processes before the run: ${m.topProcesses.join('; ')}`);
  for (const s of results.seeds) out.push(`- seed ${s.database}: ${s.cards} cards, ${s.created} created in ${(s.ms / 1000).toFixed(1)} s`);
  out.push('');
  out.push('## Sustained rate (highest offered rate with p99 ≤ 20 ms, no errors, no 503)', '');
  out.push('| phase | database (cards) | settings | sustained approvals | approved answers / committed transfers | transfers per commit (whole phase) | trial balance |', '|---|---|---|---|---|---:|---|');
  for (const p of results.phases) {
    const env = Object.entries(p.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults';
    const d = p.durability ? `${p.durability.approvedAnswers} / ${p.durability.committedTransfers}` : '';
    const tb = p.trialBalance ? (p.trialBalance.balanced ? 'balanced' : `NOT balanced (${p.trialBalance.total})`) : '';
    const value = p.search ? sustainedCell(p.search) : p.fixed ? 'fixed-rate run' : '';
    const perCommit = p.durability && p.durability.transactions > 0 ? (p.durability.committedTransfers / p.durability.transactions).toFixed(1) : '';
    out.push(`| ${p.name} | ${p.database} (${p.cards}) | ${env} | ${value} | ${d} | ${perCommit} | ${tb} |`);
  }
  const core = results.phases.find((p) => p.name === 'core')?.search?.sustained;
  const naive = results.phases.find((p) => p.name === 'naive')?.search?.sustained;
  if (core && naive) out.push('', `Core / naive sustained approvals: **${(core.approvalsPerS / naive.approvalsPerS).toFixed(2)}×** (target ≥ 4×).`);
  for (const p of results.phases) {
    const steps = p.search?.steps ?? p.fixed ?? [];
    if (steps.length === 0) continue;
    out.push('', `### ${p.name} — ${p.database}`, '', `\`${p.uptimeBefore}\`${p.busyBefore !== undefined ? `; machine ${Math.round(p.busyBefore * 100)}% busy before` : ''}${p.vacuum ? `; VACUUM accounts first (${p.vacuum.deadBefore} dead rows, autovacuum ${p.vacuum.autovacuum})` : ''}${p.warmMs !== undefined ? `; card cache warmed in ${(p.warmMs / 1000).toFixed(1)} s` : ''}${p.note ? `; ${p.note}` : ''}`, '');
    out.push(stepHeader, stepRule, ...steps.map(stepRow));
  }
  if (results.writer) {
    out.push('', '## The ledger writer alone (no HTTP, no Redis), open loop, p99 of the commit wait', '');
    out.push('| variant | rate /s | result | commits /s | p50 ms | p99 ms | p99.9 ms | mean batch | statement means (ms) | CPU % writer / pg bench / pg other / other |', '|---|---:|---|---:|---:|---:|---:|---:|---|---|');
    for (const w of results.writer) {
      for (const s of w.steps) {
        const st = Object.entries(s.statements).map(([k, v]) => `${k} ${v.meanMs}`).join('; ');
        out.push(`| ${w.variant} | ${s.ratePerS} | ${s.pass ? 'pass' : 'FAIL'} | ${s.commitsPerS.toFixed(0)} | ${fmtMs(s.latencyMs.p50)} | ${fmtMs(s.latencyMs.p99)} | ${fmtMs(s.latencyMs.p999)} | ${s.meanBatch} | ${st} | ${s.cpu.runner} / ${s.cpu.postgres} / ${s.cpu.pgOther} / ${s.cpu.other} |`);
      }
    }
  }
  if (results.profile) {
    const pr = results.profile;
    out.push('', `## Server CPU profile at ${pr.rate}/s (main thread: ${pr.totalMs} ms sampled, ${pr.busyMs} ms busy; start-up included)`, '', '| layer | self ms | % of busy |', '|---|---:|---:|');
    for (const r of pr.byLayer) out.push(`| ${r.name} | ${r.ms} | ${r.pct} |`);
    out.push('', '| module | self ms | % of sampled |', '|---|---:|---:|');
    for (const r of pr.byModule) out.push(`| ${r.name} | ${r.ms} | ${r.pct} |`);
    out.push('', '| function | self ms | % |', '|---|---:|---:|');
    for (const r of pr.byFunction) out.push(`| \`${r.name}\` | ${r.ms} | ${r.pct} |`);
  }
  return out.join('\n') + '\n';
}
