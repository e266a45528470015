// Starts and stops the servers under test as child processes (`node --import tsx <entry>`, one
// process, so its pid is the server's), waits for /health/ready, keeps the tail of their output.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export const outputLinesMax = 60;
export const readyWaitMsMax = 120_000;
export const stopWaitMsMax = 15_000;

export interface ServerSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  httpPort: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export class ServerProcess {
  private readonly lines: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;

  private constructor(
    readonly spec: ServerSpec,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        if (this.lines.length > outputLinesMax) this.lines.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string[] {
    return [...this.lines];
  }

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    const child = spawn(process.execPath, [...(spec.nodeFlags ?? []), '--import', 'tsx', spec.entry], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(spec, child);
    live.add(server);
    await server.waitReady();
    return server;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + readyWaitMsMax;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`${this.spec.name} exited (${this.exitCode}) before ready:\n${this.lines.join('\n')}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.spec.httpPort}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.stop();
    throw new Error(`${this.spec.name} not ready after ${readyWaitMsMax} ms:\n${this.lines.join('\n')}`);
  }

  /** SIGTERM (the server drains its ledger writer), then SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    live.delete(this);
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), stopWaitMsMax)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

const live = new Set<ServerProcess>();

/** Kills the servers this runner started (by their own pids) when the runner is interrupted. */
export function killStartedServers(): void {
  for (const server of live) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}
