// Real server processes for tests that must prove an invariant across processes: each is
// `tsx src/main.ts` with its own HTTP port on one shared test database and Redis key prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { adminToken, createDatabase, dropDatabase } from './system.js';
import { urlFor } from './db-names.js';

export const serverReadyMsMax = 60_000;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: string[];
}

export interface ServerGroup {
  dbName: string;
  servers: ServerProcess[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + serverReadyMsMax;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited ${server.child.exitCode}: ${server.output.join('').slice(-2000)}`);
    try {
      const res = await fetch(`${server.url}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not ready: ${server.output.join('').slice(-2000)}`);
}

/** Starts `count` API processes one after the other (each runs startup recovery) on one database and Redis prefix. */
export async function startServers(count: number, env: Record<string, string> = {}): Promise<ServerGroup> {
  const dbName = await createDatabase();
  const prefix = `t:${dbName}:`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const servers: ServerProcess[] = [];
  const group: ServerGroup = {
    dbName,
    servers,
    async stop() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.child.exitCode !== null) return resolve();
              s.child.once('exit', () => resolve());
              s.child.kill('SIGTERM');
              setTimeout(() => s.child.kill('SIGKILL'), 10_000).unref();
            }),
        ),
      );
      const cleaner = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await cleaner.del(...keys);
      } while (cursor !== '0');
      cleaner.disconnect();
      await dropDatabase(dbName);
    },
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: urlFor(dbName),
          REDIS_URL: redisUrl,
          REDIS_KEY_PREFIX: prefix,
          ADMIN_TOKEN: adminToken,
          ROLE: 'api',
          SEED: '0',
          HTTP_PORT: String(port),
          HTTP_HOST: '127.0.0.1',
          // Any free port for the other listeners, so that processes side by side do not collide.
          HTTPS_PORT: '0',
          ISO_PORT: '0',
          ISO_TLS_PORT: '0',
          LOG_LEVEL: 'warn',
          REPORTS_DIR: `var/test-reports/${dbName}`,
          EVENT_LOOP_DELAY_MAX_MS: '30000',
          NODE_ENV: 'test',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server: ServerProcess = { url: `http://127.0.0.1:${port}`, child, output: [] };
      child.stdout?.on('data', (d: Buffer) => server.output.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => server.output.push(d.toString()));
      servers.push(server);
      await waitReady(server);
    }
  } catch (error) {
    await group.stop();
    throw error;
  }
  return group;
}
