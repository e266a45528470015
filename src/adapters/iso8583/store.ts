// PostgreSQL side of the ISO gateway: the duplicate-detection record of each financial request
// (iso_messages), written in small group commits so that it costs a fraction of a round trip per
// message, and the lookups the handlers need (original by RRN or key, batch windows).
import pg from 'pg';
import type { Pool } from '../postgres/db.js';

/** Rows per multi-row statement; the next batch fills while one runs. */
export const storeBatchRowsMax = 256;

/**
 * The store's own connections commit without waiting for the WAL flush: a claim is made durable by
 * the ledger commit that follows it (one WAL, flushed up to that later commit), and a claim or answer
 * lost in a crash only makes a retransmission run again, which the idempotent handlers answer the same.
 */
export function createIsoPool(databaseUrl: string, max = 4): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, options: '-c synchronous_commit=off', connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  return pool;
}

export type IsoOp = 'purchase' | 'refund' | 'topup' | 'balance' | 'advice' | 'reversal' | 'reversal-advice' | 'batch' | 'medical';

export interface IsoKey {
  terminalId: string;
  stan: string;
  transmitted: string;
}

/** The money layer's client id of an ISO request, and the key reversals point at (F90). */
export function isoKeyText(key: IsoKey): string {
  return `${key.terminalId}:${key.stan}:${key.transmitted}`;
}

export interface ClaimInput extends IsoKey {
  mti: string;
  requestHash: string;
  op: IsoOp;
  merchantId: string | null;
  originalKey: string | null;
}

/** What a stored answer holds: the code and the fields added to the echo. */
export interface StoredAnswer {
  code: string;
  fields: Record<string, string>;
}

export type ClaimResult =
  | { kind: 'new'; reversedBefore: boolean }
  | { kind: 'seen'; answer: StoredAnswer | null; op: IsoOp; reversedBefore: boolean }
  | { kind: 'conflict' };

export interface CompleteInput extends IsoKey {
  answer: StoredAnswer;
  rrn: string | null;
}

/** Collects calls and runs them as one statement, one statement at a time. */
class Batcher<In, Out> {
  private queue: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, storeBatchRowsMax);
        try {
          const outs = await this.run(batch.map((b) => b.input));
          batch.forEach((b, i) => b.resolve(outs[i] as Out));
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.running = false;
      for (const done of this.idleWaiters.splice(0)) done();
    }
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

// Named (prepared once per connection): parsed and planned once, not per batch.
// One round trip per batch: insert the new keys, and for each input say whether it was new, what
// the existing row holds when it was not, and whether a reversal already names it (a late original).
const claimSql = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS u(terminal_id, stan, transmitted, mti, request_hash, op, merchant_id, original_key)
), ins AS (
  INSERT INTO iso_messages (terminal_id, stan, transmitted, mti, request_hash, op, merchant_id, original_key)
  SELECT * FROM input
  ON CONFLICT DO NOTHING
  RETURNING terminal_id, stan, transmitted
)
SELECT i.terminal_id, i.stan, i.transmitted, ins.terminal_id IS NOT NULL AS fresh,
       m.request_hash, m.op, m.code, m.response,
       i.op IN ('purchase', 'advice')
         AND EXISTS (SELECT 1 FROM iso_messages r WHERE r.original_key = i.terminal_id || ':' || i.stan || ':' || i.transmitted) AS reversed
  FROM input i
  LEFT JOIN ins ON ins.terminal_id = i.terminal_id AND ins.stan = i.stan AND ins.transmitted = i.transmitted
  LEFT JOIN iso_messages m ON ins.terminal_id IS NULL AND m.terminal_id = i.terminal_id AND m.stan = i.stan AND m.transmitted = i.transmitted`;

const completeSql = `
UPDATE iso_messages m
   SET code = u.code, response = u.response, rrn = coalesce(u.rrn, m.rrn), completed_at = now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[]) AS u(t, s, d, code, response, rrn)
 WHERE m.terminal_id = u.t AND m.stan = u.s AND m.transmitted = u.d`;

const keyOf = (k: IsoKey): string => isoKeyText(k);

export class IsoStore {
  private readonly claims = new Batcher<ClaimInput, ClaimResult>((inputs) => this.claimBatch(inputs));
  private readonly completions = new Batcher<CompleteInput, void>((inputs) => this.completeBatch(inputs));

  constructor(readonly pool: Pool) {}

  /**
   * Records a request before it has any effect. `new`: this caller owns it; `reversedBefore`: a
   * reversal naming it arrived first; `seen`: the key is known with the same content (answer null
   * while the first is still pending or its process died: the handlers are idempotent, so the
   * caller processes again); `conflict`: the key is known with other content (94).
   */
  claim(input: ClaimInput): Promise<ClaimResult> {
    return this.claims.submit(input);
  }

  /** Stores the answer of a claimed request. */
  complete(input: CompleteInput): Promise<void> {
    return this.completions.submit(input);
  }

  /** Answers are stored after the terminal has them: wait for those in progress (RRN lookups, close). */
  completionsWritten(): Promise<void> {
    return this.completions.idle();
  }

  private async claimBatch(inputs: ClaimInput[]): Promise<ClaimResult[]> {
    const r = await this.pool.query<{
      terminal_id: string;
      stan: string;
      transmitted: string;
      fresh: boolean;
      request_hash: string | null;
      op: IsoOp | null;
      code: string | null;
      response: Record<string, string> | null;
      reversed: boolean;
    }>({
      name: 'iso-claim',
      text: claimSql,
      values: [
        inputs.map((i) => i.terminalId),
        inputs.map((i) => i.stan),
        inputs.map((i) => i.transmitted),
        inputs.map((i) => i.mti),
        inputs.map((i) => i.requestHash),
        inputs.map((i) => i.op),
        inputs.map((i) => i.merchantId),
        inputs.map((i) => i.originalKey),
      ],
    });
    const rows = new Map(r.rows.map((row) => [keyOf({ terminalId: row.terminal_id, stan: row.stan, transmitted: row.transmitted }), row]));
    return inputs.map((i): ClaimResult => {
      const row = rows.get(keyOf(i));
      if (row?.fresh) return { kind: 'new', reversedBefore: row.reversed };
      // Not inserted, and the row is not visible yet (a concurrent claim from another process is
      // still committing): process again; the handlers are idempotent.
      if (!row || row.request_hash === null) return { kind: 'seen', answer: null, op: i.op, reversedBefore: row?.reversed ?? false };
      if (row.request_hash !== i.requestHash) return { kind: 'conflict' };
      const answer = row.code !== null && row.response ? { code: row.code, fields: row.response } : null;
      return { kind: 'seen', answer, op: row.op ?? i.op, reversedBefore: row.reversed };
    });
  }

  private async completeBatch(inputs: CompleteInput[]): Promise<void[]> {
    await this.pool.query({
      name: 'iso-complete',
      text: completeSql,
      values: [
        inputs.map((i) => i.terminalId),
        inputs.map((i) => i.stan),
        inputs.map((i) => i.transmitted),
        inputs.map((i) => i.answer.code),
        inputs.map((i) => JSON.stringify(i.answer.fields)),
        inputs.map((i) => i.rrn),
      ],
    });
    return inputs.map(() => undefined);
  }

  /** The original of a reversal or F90 refund: this terminal's request with that STAN and F7. */
  async original(key: IsoKey): Promise<{ op: IsoOp; code: string | null; response: Record<string, string> | null } | null> {
    const r = await this.pool.query(`SELECT op, code, response FROM iso_messages WHERE terminal_id = $1 AND stan = $2 AND transmitted = $3`, [
      key.terminalId,
      key.stan,
      key.transmitted,
    ]);
    return r.rows[0] ?? null;
  }

  /** The approved purchase of this merchant with this retrieval reference number, newest first. */
  async purchaseByRrn(merchantId: string, rrn: string): Promise<IsoKey | null> {
    const r = await this.pool.query<{ terminal_id: string; stan: string; transmitted: string }>(
      `SELECT terminal_id, stan, transmitted FROM iso_messages
        WHERE merchant_id = $1 AND rrn = $2 AND op IN ('purchase', 'advice') AND code = '00'
        ORDER BY received_at DESC LIMIT 1`,
      [merchantId, rrn],
    );
    const row = r.rows[0];
    return row ? { terminalId: row.terminal_id, stan: row.stan, transmitted: row.transmitted } : null;
  }
}
