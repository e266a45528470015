// Real server processes for multi-process tests: each is `tsx src/main.ts` (optionally a supervisor
// with WEB_CONCURRENCY workers) on one test database and Redis prefix, started in its own process
// group and awaited on /health/ready. Set up parties through an in-process TestSystem on the same
// database (createTestSystem), then spawn servers with its config: `spawnServer(sys.config, …)`.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/platform/config.js';
import { adminToken } from './system.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const serverReadyWaitMsMax = 60_000;
/** How long a stop waits for every process of the group to be gone. */
export const serverStopWaitMsMax = 30_000;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
/** Ports handed to spawned servers: one range per test process, away from the defaults. */
let nextPort = 20_000 + (process.pid % 500) * 40;

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

export class ServerProcess {
  child: ChildProcess | null = null;
  output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly config: Config,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const child = spawn('npx', ['tsx', 'src/main.ts'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: this.config.databaseUrl,
        REDIS_URL: this.config.redisUrl,
        REDIS_CLUSTER: this.config.redisCluster ? '1' : '0',
        REDIS_KEY_PREFIX: this.config.redisKeyPrefix,
        ADMIN_TOKEN: adminToken,
        SEED: '0',
        HTTP_PORT: String(this.port),
        HTTP_HOST: '127.0.0.1',
        ISO_PORT: '0',
        ISO_TLS_PORT: '0',
        HTTPS_PORT: '0',
        LOG_LEVEL: 'info',
        REPORTS_DIR: this.config.reportsDir,
        EVENT_LOOP_DELAY_MAX_MS: '30000',
        WEB_CONCURRENCY: '1',
        ...this.env,
      },
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + serverReadyWaitMsMax;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.output}`);
      const ready = await this.request('GET', '/health/ready').catch(() => null);
      if (ready?.status === 200 && this.workersReady()) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready after ${serverReadyWaitMsMax} ms:\n${this.output}`);
  }

  /** A supervisor is ready once it logged all its workers; a single server once it answers ready. */
  private workersReady(): boolean {
    return this.env.WEB_CONCURRENCY === undefined || this.env.WEB_CONCURRENCY === '1' || this.output.includes('all workers started');
  }

  /** Owner ids (src/app/ownership.ts) of the processes that answered `ready`. */
  async ownerIds(): Promise<string[]> {
    return this.readyEntries().map((e) => e.owner);
  }

  private readyEntries(): { owner: string; role: string }[] {
    const out: { owner: string; role: string }[] = [];
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; owner?: string; role?: string };
        if ((entry.msg === 'ready' || entry.msg === 'worker ready') && entry.owner) out.push({ owner: entry.owner, role: entry.role ?? '' });
      } catch {
        // not a log line
      }
    }
    return out;
  }

  /** Pids of the processes that answered `ready`, from the JSON log lines (workers of a supervisor too). */
  readyPids(): number[] {
    const pids: number[] = [];
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        // The owner id is `<host>.<pid>.<random>` (src/app/ownership.ts).
        const entry = JSON.parse(line) as { msg?: string; owner?: string; role?: string };
        const pid = Number(entry.owner?.split('.')[1]);
        if ((entry.msg === 'ready' || entry.msg === 'worker ready') && pid > 0 && entry.role !== 'worker') pids.push(pid);
      } catch {
        // not a log line
      }
    }
    return pids;
  }

  async request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(this.url + urlPath, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  }

  /** A signal to the whole process group (npx, tsx, node and any workers). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
    await this.exited;
    // npx exits at once on a signal; the node processes (a supervisor's workers draining) may not yet.
    const deadline = Date.now() + serverStopWaitMsMax;
    while (Date.now() < deadline && groupAlive(child.pid!)) await new Promise((r) => setTimeout(r, 50));
    this.child = null;
  }

  /** Graceful stop (SIGTERM to the group), then SIGKILL if it does not end in time. */
  async stop(waitMs = serverStopWaitMsMax): Promise<void> {
    const timer = setTimeout(() => void this.kill('SIGKILL'), waitMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}

/** Starts one server process (or a supervisor: env WEB_CONCURRENCY > 1) on `config`'s database and prefix. */
export async function spawnServer(config: Config, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = nextPort++;
  return new ServerProcess(config, port, env).start();
}

/** Starts several servers one after another (startup recovery of each runs while the others serve). */
export async function spawnServers(config: Config, envs: Record<string, string>[]): Promise<ServerProcess[]> {
  const servers: ServerProcess[] = [];
  for (const env of envs) servers.push(await spawnServer(config, env));
  return servers;
}
