// Ledger writers of several processes share hot account rows: each batch must lock its accounts in
// one order (account id), so that two batches touching the same rows queue instead of deadlocking
// (a deadlock aborts a batch: every command in it would answer 96).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { urlFor } from '../support/db-names.js';
import { createPool, type Pool } from '../../src/adapters/postgres/db.js';
import { AccountDirectory, type AccountRef } from '../../src/adapters/postgres/accounts.js';
import { LedgerWriter } from '../../src/adapters/postgres/ledger-writer.js';

const writersCount = 4;
const batchesPerWriter = 60;
const accountsCount = 9; // 8 legs: a command's maximum

let sys: TestSystem;
const pools: Pool[] = [];
const writers: LedgerWriter[] = [];

beforeAll(async () => {
  sys = await createTestSystem();
  for (let i = 0; i < writersCount; i++) {
    const pool = createPool(urlFor(sys.dbName), 2);
    pools.push(pool);
    // One command per batch (no batching within a writer): each submit is its own transaction.
    writers.push(new LedgerWriter(pool, new AccountDirectory(pool), { batchRowsMax: 8, batchWaitMs: 0, queueMax: 1000 }));
  }
});

afterAll(async () => {
  for (const w of writers) await w.close();
  for (const p of pools) await p.end();
  await sys?.destroy();
});

const account = (n: number): AccountRef => ({ kind: 'suspense', ownerId: `order-${n}` });

describe('ledger batches of several writers on shared accounts', () => {
  it('never deadlock, whatever order their legs name the accounts in', async () => {
    // Create the accounts first (in one writer) so that the race is only on their rows.
    await writers[0]!.submit({
      opKind: 'adjustment',
      opId: 'order-setup',
      requestHash: 'h',
      businessDate: '2026-12-01',
      legs: Array.from({ length: accountsCount - 1 }, (_, n) => ({ debit: account(n), credit: account(n + 1), amountFen: 1n })),
    });
    let failures = 0;
    const messages = new Set<string>();
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let b = 0; b < batchesPerWriter; b++) {
          // Legs in a different order per writer and batch: ascending for some, descending for others.
          const ids = Array.from({ length: accountsCount }, (_, n) => n);
          if ((w + b) % 2 === 1) ids.reverse();
          const legs = ids.slice(0, -1).map((n, i) => ({ debit: account(n), credit: account(ids[i + 1]!), amountFen: 1n }));
          try {
            await writer.submit({ opKind: 'adjustment', opId: `order-${w}-${b}`, requestHash: 'h', businessDate: '2026-12-01', legs: legs.slice(0, 8) });
          } catch (error) {
            failures++;
            messages.add((error as Error).message);
          }
        }
      }),
    );
    expect([...messages], 'no batch may fail').toEqual([]);
    expect(failures).toBe(0);
    const tb = await sys.journal.trialBalance();
    expect(tb.balanced).toBe(true);
  }, 120_000);
});
