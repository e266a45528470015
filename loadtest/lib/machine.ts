// What the figures were measured on: cores, memory, versions, settings that bound a commit, and
// how busy the machine already was (other engineers may be running tests at the same time).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  redisPersistence: string;
  gitCommit: string;
  /** Uncommitted changes under src/ at the time (colleagues edit the tree while it runs). */
  srcChanges: string[];
  uptime: string;
  topProcesses: string[];
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).replace(/\s+$/, '');
  } catch {
    return '';
  }
}

/** `uptime` as printed, with its load averages (recorded before each measured run). */
export function uptime(): string {
  return run('uptime', []).trim() || `load average: ${os.loadavg().map((v) => v.toFixed(2)).join(', ')}`;
}

/** The busiest processes right now, to show who else was using the CPU. */
export function topProcesses(count = 6): string[] {
  return run('ps', ['-eo', 'pcpu,comm', '--sort=-pcpu', '--no-headers']).split('\n').slice(0, count).map((l) => l.trim());
}

/** The machine, PostgreSQL and Redis of a run; null URLs (a run against --url) are not asked. */
export async function machineInfo(databaseUrl: string | null, redisUrl: string | null): Promise<MachineInfo> {
  const settings: Record<string, string> = {};
  let postgres = 'not measured (external target)';
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      postgres = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0]!;
      const r = await client.query<{ name: string; setting: string; unit: string | null }>(
        `SELECT name, setting, unit FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections', 'commit_delay', 'max_wal_size')`,
      );
      for (const row of r.rows) settings[row.name] = row.unit ? `${row.setting} ${row.unit}` : row.setting;
    } finally {
      await client.end();
    }
  }
  let redisVersion = 'not measured (external target)';
  let persistence = '';
  if (redisUrl) {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const info = await redis.info('server');
      redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '';
      const p = await redis.info('persistence');
      persistence = `aof_enabled=${/aof_enabled:(\d)/.exec(p)?.[1] ?? '?'}`;
    } finally {
      redis.disconnect();
    }
  }
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? '',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    postgresSettings: settings,
    redis: redisVersion,
    redisPersistence: persistence,
    gitCommit: run('git', ['rev-parse', '--short', 'HEAD']).trim(),
    srcChanges: run('git', ['status', '--porcelain', '--', 'src', 'migrations']).split('\n').filter(Boolean),
    uptime: uptime(),
    topProcesses: topProcesses(),
  };
}

/** Busy share of all cores over a short window, from /proc/stat (0..1). */
export async function machineBusy(windowMs = 2000): Promise<number> {
  const read = () => {
    const cpu = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { idle, total: cpu.slice(0, 8).reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = read();
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/**
 * Waits (at most maxWaitMs) until the machine is quiet: other engineers' test runs on the same
 * 2 cores would otherwise be measured as the server's latency. Returns the last busy share seen.
 */
export async function waitQuiet(maxWaitMs: number, busyMax: number, log: (line: string) => void): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await machineBusy();
  while (busy > busyMax && Date.now() < deadline) {
    log(`machine ${Math.round(busy * 100)}% busy (others' processes): waiting for < ${Math.round(busyMax * 100)}%`);
    busy = await machineBusy(5000);
  }
  return busy;
}
