// CPU accounting over a step from /proc (Linux): the whole machine, the server under test, the load
// runner itself, the PostgreSQL backends of the bench database, the other PostgreSQL processes
// (WAL writer, checkpointer, other databases' backends), Redis (shared: it serves other tests too)
// and everything else (e.g. other engineers' test runs). Percent of one core: 2 cores top at 200.
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerS = 100; // USER_HZ on Linux

interface Sample {
  at: number;
  machineBusy: number;
  machineTotal: number;
  groups: Record<string, number>;
  /** Every PostgreSQL process's ticks: split between the bench database's backends and the rest at report time. */
  postgres: Map<string, number>;
}

export type CpuReport = Record<'machine' | 'server' | 'runner' | 'postgres' | 'pgOther' | 'redis' | 'other' | 'seconds', number>;

function procTicks(pid: string): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is state (field 3); utime and stime are fields 14 and 15.
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function sample(serverPids: number[]): Sample {
  const cpu = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const groups: Record<string, number> = { server: 0, runner: 0, redis: 0 };
  const postgres = new Map<string, number>();
  const servers = new Set(serverPids.map(String));
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const p = procTicks(pid);
    if (!p) continue;
    if (servers.has(pid)) groups.server! += p.ticks;
    else if (pid === String(process.pid)) groups.runner! += p.ticks;
    else if (p.comm === 'postgres') postgres.set(pid, p.ticks);
    else if (p.comm.startsWith('redis-server')) groups.redis! += p.ticks;
  }
  return { at: Date.now(), machineBusy: total - idle, machineTotal: total, groups, postgres };
}

export class CpuMeter {
  private first: Sample;

  constructor(
    private readonly serverPids: number[],
    private readonly benchPgPids: number[] = [],
  ) {
    this.first = sample(serverPids);
  }

  /**
   * CPU used since construction. `benchPgPidsNow`: the bench database's backends at the end (a pool
   * may have opened some during the step; a process born during the step counts from zero).
   * Processes that exited during the step are in `other`.
   */
  report(benchPgPidsNow: number[] = []): CpuReport {
    const last = sample(this.serverPids);
    const seconds = Math.max(0.001, (last.at - this.first.at) / 1000);
    const pct = (ticks: number) => Math.round((ticks / ticksPerS / seconds) * 1000) / 10;
    const g = (name: string) => Math.max(0, (last.groups[name] ?? 0) - (this.first.groups[name] ?? 0));
    const bench = new Set([...this.benchPgPids, ...benchPgPidsNow].map(String));
    let benchTicks = 0;
    let otherPgTicks = 0;
    for (const [pid, ticks] of last.postgres) {
      const delta = Math.max(0, ticks - (this.first.postgres.get(pid) ?? 0));
      if (bench.has(pid)) benchTicks += delta;
      else otherPgTicks += delta;
    }
    const cores = Math.max(1, (last.machineTotal - this.first.machineTotal) / ticksPerS / seconds);
    const machine = Math.round(((last.machineBusy - this.first.machineBusy) / Math.max(1, last.machineTotal - this.first.machineTotal)) * cores * 1000) / 10;
    const report = { seconds: Math.round(seconds * 1000) / 1000, machine, server: pct(g('server')), runner: pct(g('runner')), postgres: pct(benchTicks), pgOther: pct(otherPgTicks), redis: pct(g('redis')), other: 0 };
    report.other = Math.max(0, Math.round((machine - report.server - report.runner - report.postgres - report.pgOther - report.redis) * 10) / 10);
    return report;
  }
}
