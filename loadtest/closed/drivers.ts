// Closed-loop drivers of the benchmark's batch-tap and ISO phases (loadtest/closed/run.ts): a fixed
// number of requests in flight, each answered before the next is sent, for a bounded time, against
// 127.0.0.1 only. Each driver checks its approvals against PostgreSQL afterwards.
import pg from 'pg';
import { HttpPool } from '../lib/http-pool.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { encodeMessageWithMac, fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { retailMac } from '../../src/adapters/iso8583/mac.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

export const tapsPerRequest = 1_000;
export const tapRequestsInFlight = 4;
export const isoConnections = 50;
export const isoInFlightPerConnection = 4;
const stanMax = 999_999;

export interface DriverResult {
  perSecond: number;
  approvedTotal: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  check: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `loops` closed loops of `step` until the deadline; latencies in ms. */
async function closedLoop(loops: number, durationS: number, step: () => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await step();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000 };
}

export async function runBatchTaps(input: {
  port: number;
  validators: { terminalId: string; apiKey: string }[];
  cards: string[];
  durationS: number;
  runId: string;
  databaseUrl?: string;
}): Promise<DriverResult> {
  const http = new HttpPool({ host: '127.0.0.1', port: input.port, connections: tapRequestsInFlight, timeoutMs: 30_000 });
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  let request = 0;
  try {
    const { latencies, seconds } = await closedLoop(tapRequestsInFlight, input.durationS, async () => {
      const k = request++;
      const v = input.validators[k % input.validators.length]!;
      const tappedAt = new Date().toISOString();
      const taps = Array.from({ length: tapsPerRequest }, (_, i) => ({
        tapId: `${input.runId}-${k}-${i}`,
        // Each card once per run (no anti-passback decline): the list is far longer than a run needs.
        cardNo: input.cards[next++ % input.cards.length]!,
        tappedAt,
      }));
      try {
        const answer = await http.request('POST', '/v1/taps/batch', { authorization: `Bearer ${v.apiKey}`, 'content-type': 'application/json' }, JSON.stringify({ taps }));
        if (answer.status !== 200) {
          errors++;
          return;
        }
        const body = JSON.parse(answer.body.toString('utf8')) as { results: { status: string }[] };
        for (const r of body.results) {
          if (r.status === 'accepted') accepted++;
          else rejected++;
        }
      } catch {
        errors++;
      }
    });
    return { perSecond: accepted / seconds, approvedTotal: accepted, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors, check: `${accepted} accepted, ${rejected} not accepted, ${request} requests` };
  } finally {
    http.close();
  }
}

export async function runIsoPurchases(input: { port: number; terminalId: string; mak: string; tmk: string; cards: string[]; durationS: number }): Promise<DriverResult> {
  const mak = Buffer.from(input.mak, 'hex');
  const clients = await Promise.all(Array.from({ length: isoConnections }, () => IsoClient.connect('127.0.0.1', input.port)));
  let seq = 0;
  let approved = 0;
  let declined = 0;
  let errors = 0;
  try {
    const { latencies, seconds } = await closedLoop(isoConnections * isoInFlightPerConnection, input.durationS, async () => {
      const n = seq++;
      const client = clients[n % clients.length]!;
      const stan = String((n % stanMax) + 1).padStart(6, '0');
      const fields = new Map<number, FieldValue>([
        [2, input.cards[Math.floor(Math.random() * input.cards.length)]!],
        [3, '000000'],
        [4, amountField(1n)],
        [7, transmissionDateTime(new Date())],
        [11, stan],
        [41, input.terminalId],
        [42, merchantField('M0000000000001')],
        [49, '156'],
      ]);
      try {
        const answer = await client.requestBytes(encodeMessageWithMac({ mti: '0200', fields }, (bytes) => retailMac(mak, bytes)), stan);
        if (fieldText(answer, 39) === '00') approved++;
        else declined++;
      } catch {
        errors++;
      }
    });
    return { perSecond: approved / seconds, approvedTotal: approved, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors: errors + declined, check: '' };
  } finally {
    for (const c of clients) c.close();
  }
}

/** Accepted taps the ledger holds for the run's validators (the durability check of the tap phase). */
export async function committedTaps(databaseUrl: string, terminalIds: string[]): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM taps WHERE terminal_id = ANY($1) AND status = 'accepted'`, [terminalIds]);
    return Number(r.rows[0]!.n);
  } finally {
    await c.end();
  }
}
