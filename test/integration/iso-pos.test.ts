// The POS program end to end (issue: ISO 8583 gateway): `tsx src/main.ts` with the demo seed on a
// fresh database, then `tsx terminals/pos/main.ts` with terminals/pos/day.json and the keys the seed
// wrote; the program's summary and the ledger must agree.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createDatabase, dropDatabase } from '../support/system.js';
import { urlFor } from '../support/db-names.js';
import { cardNoFromSerial } from '../../src/domain/card-number.js';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

let dbName: string;
let workDir: string;
let server: ChildProcess;
let isoPort: number;
let pool: pg.Pool;
const prefix = `t:pos:${process.pid}:`;

/** Starts the server and resolves with its ISO port once it logs "ready". */
function startServer(): Promise<number> {
  return new Promise((resolve, reject) => {
    server = spawn(tsx, [path.join(root, 'src/main.ts')], {
      cwd: workDir,
      env: {
        ...process.env,
        DATABASE_URL: urlFor(dbName),
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        SEED: '1',
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        ISO_PORT: '0',
        ISO_TLS_PORT: '0',
        HTTPS_PORT: '0',
        POLICY_FILE: path.join(root, 'data/demo-network.json'),
        REPORTS_DIR: path.join(workDir, 'reports'),
        LOG_LEVEL: 'info',
        ROLE: 'all',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let port = 0;
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server not ready: ${buffered.slice(-2000)}`)), 60_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'ISO 8583 listening') port = entry.port!;
        if (entry.msg === 'ready' && port) {
          clearTimeout(timer);
          resolve(port);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    server.stderr!.on('data', (chunk: Buffer) => (buffered += chunk.toString()));
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${buffered.slice(-2000)}`)));
  });
}

function runPos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, [path.join(root, 'terminals/pos/main.ts'), ...args], { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dbName = await createDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'cc-pos-'));
  isoPort = await startServer();
  pool = new pg.Pool({ connectionString: urlFor(dbName), max: 2 });
}, 90_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => (server && server.exitCode === null ? server.once('exit', r) : r(null)));
  await pool?.end();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  if (dbName) await dropDatabase(dbName);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function purse(cardNo: string): Promise<bigint> {
  const r = await pool.query<{ balance: string }>(`SELECT balance::text FROM accounts WHERE kind = 'purse' AND owner_id = $1`, [cardNo]);
  return BigInt(r.rows[0]!.balance);
}

describe('terminals/pos/main.ts', () => {
  it('runs the day script with the seeded keys: signs on, pays, reverses, refunds, tops up, settles 00', async () => {
    const run = await runPos(['--host', '127.0.0.1', '--port', String(isoPort), '--terminal', 'POS00001', '--script', path.join(root, 'terminals/pos/day.json'), '--batch', '000101']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summaryLine = run.stdout.split('\n').find((l) => l.startsWith('SUMMARY '))!;
    const summary = JSON.parse(summaryLine.slice('SUMMARY '.length));
    expect(summary).toMatchObject({ terminalId: 'POS00001', batch: '000101', requests: 10, approved: 10, declined: 0, macFailures: 0, settlement: '00' });
    expect(summary.steps.map((s: { op: string }) => s.op)).toEqual(['signOn', 'echo', 'purchase', 'purchase', 'topup', 'purchase', 'reversal', 'refund', 'balance', 'settle']);
    // The ledger: card 0 paid 1250 and got 250 back, card 1 paid 3500, card 2 was topped up 30000
    // and its 35000 purchase reversed.
    expect(await purse(cardNoFromSerial(1n))).toBe(9_000n);
    expect(await purse(cardNoFromSerial(2n))).toBe(6_500n);
    expect(await purse(cardNoFromSerial(3n))).toBe(40_000n);
    expect(summary.steps[8]).toEqual({ op: 'balance', code: '00', stan: expect.any(String), purse: 9000 });
    const totals = await pool.query(`SELECT debit_count, debit_amount::text, credit_count, credit_amount::text FROM terminal_totals WHERE terminal_id = 'POS00001' AND batch_no = '000101'`);
    expect(totals.rows[0]).toEqual({ debit_count: 2, debit_amount: '4750', credit_count: 2, credit_amount: '30250' });
    const sum = await pool.query<{ total: string }>(`SELECT sum(balance)::text AS total FROM accounts`);
    expect(sum.rows[0]!.total).toBe('0');
  });

  it('a second day (keys from the file are stale after the first sign-on) still works: sign-on brings the current keys', async () => {
    const run = await runPos(['--port', String(isoPort), '--terminal', 'POS00001', '--script', path.join(root, 'terminals/pos/day.json'), '--batch', '000102', '--keys-file', path.join(workDir, 'var/demo-terminals.json')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('"settlement":"00"');
    expect(await purse(cardNoFromSerial(1n))).toBe(8_000n);
  });
});
