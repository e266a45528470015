// The ledger writer: the one place where balances change. Commands are queued and group-committed:
// one transaction per batch with a multi-row INSERT of transfers and one aggregated balance update
// per account, while the next batch fills. A command's promise settles only after its batch commits.
import { performance } from 'node:perf_hooks';
import { commandScope } from '../../domain/command-scope.js';
import type { Pool } from './db.js';
import { type AccountDirectory, accountKey } from './accounts.js';
import { assert } from '../../platform/assert.js';
import {
  LedgerOutcomeUnknownError,
  LedgerOverloadError,
  type AccountRef,
  type CommitOutcome,
  type CommittedCommand,
  type Ledger,
  type LedgerCommand,
} from '../../app/ports.js';
import { insertTapRows, knownTapKey, knownTaps } from './transit-taps.js';

export type { CommitOutcome, CommittedCommand, LedgerCommand, LedgerLeg } from '../../app/ports.js';
export { LedgerOutcomeUnknownError, LedgerOverloadError } from '../../app/ports.js';

/** The connection broke during COMMIT, and PostgreSQL then reported the transaction aborted. */
export class LedgerRolledBackError extends Error {
  override name = 'LedgerRolledBackError';
  constructor(readonly original: unknown) {
    super(`batch rolled back: ${(original as Error | null)?.message ?? String(original)}`);
  }
}

export interface LedgerWriterOptions {
  batchRowsMax: number;
  batchWaitMs: number;
  queueMax: number;
}

interface Pending {
  command: LedgerCommand;
  resolve: (outcome: CommitOutcome) => void;
  reject: (error: unknown) => void;
}

export interface LedgerWriterStats {
  batches: number;
  commands: number;
  lastBatchSize: number;
}

export const legsPerCommandMax = 8;
/** After a broken COMMIT: how often, and how far apart, PostgreSQL is asked for the outcome. */
export const commitCheckTriesMax = 20;
export const commitCheckPauseMs = 50;

const insertSql = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::int8[], $5::int8[], $6::int8[],
                       $7::text[], $8::text[], $9::date[], $10::text[], $11::jsonb[])
    AS t(op_kind, op_id, leg, debit_account_id, credit_account_id, amount, card_no, terminal_id,
         business_date, request_hash, detail)
), ins AS (
  INSERT INTO transfers (op_kind, op_id, leg, debit_account_id, credit_account_id, amount, card_no,
                         terminal_id, business_date, request_hash, detail)
  SELECT * FROM input
  ON CONFLICT (op_kind, op_scope, op_id, leg) DO NOTHING
  RETURNING transfer_id, op_kind, op_scope, op_id, leg, debit_account_id, credit_account_id, amount
), deltas AS (
  SELECT account_id, sum(delta)::bigint AS delta FROM (
    SELECT credit_account_id AS account_id, amount AS delta FROM ins
    UNION ALL
    SELECT debit_account_id, -amount FROM ins
  ) d GROUP BY account_id
), locked AS (
  -- Row locks in account order: batches of several processes touch the same hot rows (a merchant's
  -- payable, an operator's receivable); locking them in one order means they queue, never deadlock.
  SELECT a.account_id FROM accounts a WHERE a.account_id IN (SELECT account_id FROM deltas)
  ORDER BY a.account_id FOR NO KEY UPDATE
), upd AS (
  UPDATE accounts a SET balance = a.balance + d.delta, updated_at = now()
  FROM deltas d WHERE a.account_id = d.account_id AND a.account_id IN (SELECT account_id FROM locked)
  RETURNING a.account_id
)
SELECT ins.transfer_id, ins.op_kind, ins.op_scope, ins.op_id, ins.leg, ins.debit_account_id, ins.credit_account_id, (SELECT count(*) FROM upd) AS updated FROM ins`;

export class LedgerWriter implements Ledger {
  private queue: Pending[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  readonly stats: LedgerWriterStats = { batches: 0, commands: 0, lastBatchSize: 0 };
  /** Test hook: called with each batch before it is written; throwing fails the batch. */
  beforeCommit: ((commands: LedgerCommand[]) => void | Promise<void>) | null = null;
  /** Observer of each committed batch: its command count and its write-and-commit time in seconds. */
  onBatch: ((commands: number, seconds: number) => void) | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly accounts: AccountDirectory,
    private readonly options: LedgerWriterOptions,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  submit(command: LedgerCommand): Promise<CommitOutcome> {
    assert((command.legs.length > 0 || command.tap !== undefined) && command.legs.length <= legsPerCommandMax, 'a command has 1..8 legs (0 with a tap)');
    for (const leg of command.legs) assert(leg.amountFen > 0n, 'a leg moves a positive amount');
    if (this.closed) return Promise.reject(new LedgerOverloadError('ledger writer is closed'));
    if (this.queue.length >= this.options.queueMax) return Promise.reject(new LedgerOverloadError('ledger queue is full'));
    return new Promise<CommitOutcome>((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.schedule();
    });
  }

  /** Writes one command now, in its own transaction (admin calls that are not on the hot path). */
  async writeOne(command: LedgerCommand): Promise<CommitOutcome> {
    return this.submit(command);
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) await new Promise((r) => setTimeout(r, 2));
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    const wait = this.queue.length >= this.options.batchRowsMax ? 0 : this.options.batchWaitMs;
    // No wait: gather what arrives in this turn of the event loop (setImmediate, not a ≥1 ms timer);
    // under load the batch fills anyway while the previous one commits.
    this.timer = wait === 0 ? setImmediate(() => this.fire()) : setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = null;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // The next batch fills while this one commits; loop until the queue is empty.
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.writeBatch(batch);
        } catch (error) {
          // A batch that failed was rolled back whole (an open outcome is LedgerOutcomeUnknownError,
          // never retried: the retry would see the batch's own rows as duplicates). A lost
          // connection is not retried command by command either, unless PostgreSQL answered since.
          const rolledBack = error instanceof LedgerRolledBackError || !isConnectionError(error);
          if (batch.length > 1 && rolledBack && !(error instanceof LedgerOutcomeUnknownError)) {
            // One bad command must not fail its neighbours: write each alone.
            for (const one of batch) {
              await this.writeBatch([one]).catch((e: unknown) => one.reject(e));
            }
          } else {
            for (const one of batch) one.reject(error);
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private takeBatch(): Pending[] {
    let rows = 0;
    let count = 0;
    while (count < this.queue.length) {
      const legs = Math.max(1, this.queue[count]!.command.legs.length); // a tap without legs still writes a row
      if (count > 0 && rows + legs > this.options.batchRowsMax) break;
      rows += legs;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (this.beforeCommit) await this.beforeCommit(batch.map((p) => p.command));
    const startedMs = performance.now();
    const refs: AccountRef[] = [];
    for (const p of batch) for (const leg of p.command.legs) refs.push(leg.debit, leg.credit);
    const ids = await this.accounts.resolve(refs);
    const cols: [string[], string[], number[], bigint[], bigint[], bigint[], (string | null)[], (string | null)[], string[], string[], string[]] = [
      [], [], [], [], [], [], [], [], [], [], [],
    ];
    const owners: LedgerCommand[] = []; // the command of each leg row
    for (const p of batch) {
      const c = p.command;
      const detail = JSON.stringify(c.detail ?? {});
      c.legs.forEach((leg, i) => {
        owners.push(c);
        cols[0].push(c.opKind);
        cols[1].push(c.opId);
        cols[2].push(i);
        cols[3].push(ids.get(accountKey(leg.debit))!);
        cols[4].push(ids.get(accountKey(leg.credit))!);
        cols[5].push(leg.amountFen);
        cols[6].push(c.cardNo ?? null);
        cols[7].push(c.terminalId ?? null);
        cols[8].push(c.businessDate);
        cols[9].push(c.requestHash);
        cols[10].push(detail);
      });
    }
    const client = await this.pool.connect();
    let inserted: { transfer_id: bigint; op_kind: string; op_scope: string; op_id: string; leg: number }[] = [];
    let txid: string | null = null;
    let committing = false;
    let released = false;
    let tapDuplicates: ReadonlySet<LedgerCommand> = new Set();
    try {
      // One round trip opens the transaction and learns its id (to ask for its fate if COMMIT breaks).
      const opened = (await client.query('BEGIN; SELECT txid_current()::text AS txid')) as unknown as { rows: { txid: string }[] }[];
      txid = opened[1]!.rows[0]!.txid;
      // Transit taps first: a command whose tap is already recorded is a duplicate; its legs are left out.
      tapDuplicates = await insertTapRows(client, batch.map((p) => p.command));
      const rows: unknown[][] = tapDuplicates.size === 0 ? cols : cols.map((col: unknown[]) => col.filter((_, i) => !tapDuplicates.has(owners[i]!)));
      const result = await client.query<{ transfer_id: bigint; op_kind: string; op_scope: string; op_id: string; leg: number; debit_account_id: bigint; credit_account_id: bigint; updated: bigint }>(
        insertSql,
        rows.map((col) => col.map((v) => (typeof v === 'bigint' ? v.toString() : v))),
      );
      inserted = result.rows;
      // Every account the written legs touch got its one aggregated update (checked before COMMIT).
      const touched = new Set(result.rows.flatMap((r) => [String(r.debit_account_id), String(r.credit_account_id)]));
      assert(result.rows.length === 0 || Number(result.rows[0]!.updated) === touched.size, 'a batch updates exactly the distinct accounts of its legs');
      committing = true;
      await client.query('COMMIT');
    } catch (error) {
      const broken = isConnectionError(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      client.release(broken);
      released = true;
      // Only a connection lost during COMMIT leaves the outcome open; any other failure (including
      // an error answered to COMMIT itself, e.g. a deferred constraint) rolled the batch back.
      if (!(committing && broken && txid !== null)) throw error;
      const status = await this.transactionStatus(txid);
      if (status === 'aborted') throw new LedgerRolledBackError(error);
      if (status !== 'committed') throw new LedgerOutcomeUnknownError(`commit outcome unknown after: ${(error as Error).message}`);
    }
    if (!released) client.release();
    this.stats.batches++;
    this.stats.commands += batch.length;
    this.stats.lastBatchSize = batch.length;
    this.onBatch?.(batch.length, (performance.now() - startedMs) / 1000);
    try {
      await this.settle(batch, inserted, tapDuplicates);
    } catch (error) {
      // The batch is committed: it must not reach the retry path. Callers not yet answered learn
      // that the outcome is open, and reload the card from PostgreSQL.
      const open = new LedgerOutcomeUnknownError(`committed batch could not be settled: ${(error as Error).message}`);
      for (const p of batch) p.reject(open);
    }
  }

  /** Answers each command of a committed batch: its new transfer ids, or the ledger's earlier ones. */
  private async settle(batch: Pending[], inserted: { transfer_id: bigint; op_kind: string; op_scope: string; op_id: string; leg: number }[], tapDuplicates: ReadonlySet<LedgerCommand> = new Set()): Promise<void> {
    const byOp = new Map<string, bigint[]>();
    for (const row of inserted) {
      const key = `${row.op_kind}\u0000${row.op_scope}\u0000${row.op_id}`;
      const list = byOp.get(key) ?? [];
      list[row.leg] = row.transfer_id;
      byOp.set(key, list);
    }
    const duplicates: Pending[] = [];
    const tapped: Pending[] = [];
    for (const p of batch) {
      if (tapDuplicates.has(p.command)) {
        tapped.push(p);
        continue;
      }
      if (p.command.legs.length === 0) {
        p.resolve({ status: 'committed', transferIds: [] }); // a free ride: its tap row is its record
        continue;
      }
      const key = `${p.command.opKind}\u0000${commandScope(p.command)}\u0000${p.command.opId}`;
      const ids = byOp.get(key);
      if (ids) {
        byOp.delete(key); // a second command with the same key in this batch is its duplicate
        assert(ids.length === p.command.legs.length, 'a command is written whole or not at all');
        p.resolve({ status: 'committed', transferIds: ids });
      } else {
        duplicates.push(p);
      }
    }
    if (duplicates.length > 0) await this.resolveDuplicates(duplicates);
    if (tapped.length > 0) await this.resolveTapDuplicates(tapped);
  }

  /** Commands whose tap was already recorded: answered from the stored tap row and its transfers. */
  private async resolveTapDuplicates(duplicates: Pending[]): Promise<void> {
    try {
      const known = await knownTaps(this.pool, duplicates.map((p) => p.command));
      for (const p of duplicates) {
        const k = known.get(knownTapKey(p.command.tap!));
        if (k) p.resolve({ status: 'duplicate', ...k });
        else p.reject(new Error('a duplicate tap has no stored row'));
      }
    } catch (error) {
      for (const p of duplicates) p.reject(error);
    }
  }

  /** PostgreSQL's own record of a recent transaction: committed, aborted, or unknown (in progress or unreachable). */
  private async transactionStatus(txid: string): Promise<'committed' | 'aborted' | 'unknown'> {
    for (let attempt = 0; attempt < commitCheckTriesMax; attempt++) {
      try {
        const r = await this.pool.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [txid]);
        const status = r.rows[0]?.status;
        if (status === 'committed' || status === 'aborted') return status;
      } catch {
        // unreachable for now: ask again
      }
      await new Promise((r) => setTimeout(r, commitCheckPauseMs));
    }
    return 'unknown';
  }

  /** The ledger's record of a command, or null when it was never committed. */
  async committed(opKind: string, opId: string, opScope = ''): Promise<CommittedCommand | null> {
    const r = await this.pool.query<{ transfer_id: bigint; request_hash: string; detail: Record<string, unknown> }>(
      `SELECT transfer_id, request_hash, detail FROM transfers WHERE op_kind = $1 AND op_scope = $3 AND op_id = $2 ORDER BY leg`,
      [opKind, opId, opScope],
    );
    const first = r.rows[0];
    if (!first) return null;
    return { transferIds: r.rows.map((row) => row.transfer_id), requestHash: first.request_hash, detail: first.detail };
  }

  private async resolveDuplicates(duplicates: Pending[]): Promise<void> {
    try {
      const result = await this.pool.query<{ op_kind: string; op_scope: string; op_id: string; transfer_id: bigint; request_hash: string; detail: Record<string, unknown> }>(
        `SELECT op_kind, op_scope, op_id, transfer_id, request_hash, detail FROM transfers
         WHERE (op_kind, op_scope, op_id) IN (SELECT * FROM unnest($1::text[], $3::text[], $2::text[])) ORDER BY leg`,
        [duplicates.map((p) => p.command.opKind), duplicates.map((p) => p.command.opId), duplicates.map((p) => commandScope(p.command))],
      );
      for (const p of duplicates) {
        const rows = result.rows.filter((r) => r.op_kind === p.command.opKind && r.op_scope === (commandScope(p.command)) && r.op_id === p.command.opId);
        const first = rows[0];
        assert(first !== undefined, 'a conflicting command has committed rows');
        p.resolve({ status: 'duplicate', transferIds: rows.map((r) => r.transfer_id), requestHash: first.request_hash, detail: first.detail });
      }
    } catch (error) {
      for (const p of duplicates) p.reject(error);
    }
  }
}

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /Connection terminated|connect ECONNREFUSED|timeout/i.test(String((error as Error | null)?.message ?? ''))
  );
}
