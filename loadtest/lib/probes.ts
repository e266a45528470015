// Probes running beside a step, to tell the server's latency from the machine's: the latency of a
// bare durable PostgreSQL commit (a transaction that takes an xid, so COMMIT flushes the WAL) and
// of a Redis PING. Both servers are shared with other engineers' tests.
import pg from 'pg';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export const probeIntervalMs = 50;

export interface ProbeReport {
  commitMs: LatencySummary;
  redisPingMs: LatencySummary;
}

export class Probes {
  private running = false;
  private loops: Promise<void>[] = [];
  private commit = new LatencyRecorder();
  private ping = new LatencyRecorder();

  constructor(
    private readonly pgClient: pg.Client,
    private readonly redis: Redis,
  ) {}

  static async open(databaseUrl: string, redisUrl: string): Promise<Probes> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    return new Probes(client, redis);
  }

  /** PostgreSQL backend pids of a database (to split PostgreSQL CPU by database). */
  async backendPids(database: string): Promise<number[]> {
    const r = await this.pgClient.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    return r.rows.map((row) => row.pid);
  }

  start(): void {
    this.commit = new LatencyRecorder();
    this.ping = new LatencyRecorder();
    this.running = true;
    const loop = async (probe: () => Promise<void>, recorder: LatencyRecorder) => {
      while (this.running) {
        const t0 = performance.now();
        try {
          await probe();
          recorder.record(performance.now() - t0);
        } catch {
          recorder.record(performance.now() - t0);
        }
        await new Promise((r) => setTimeout(r, probeIntervalMs));
      }
    };
    this.loops = [
      loop(async () => {
        await this.pgClient.query('BEGIN');
        await this.pgClient.query('SELECT txid_current()');
        await this.pgClient.query('COMMIT');
      }, this.commit),
      loop(async () => {
        await this.redis.ping();
      }, this.ping),
    ];
  }

  async stop(): Promise<ProbeReport> {
    this.running = false;
    await Promise.all(this.loops);
    return { commitMs: this.commit.summary(), redisPingMs: this.ping.summary() };
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.pgClient.end();
    this.redis.disconnect();
  }
}
