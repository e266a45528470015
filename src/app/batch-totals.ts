// Batch totals (0500 over ISO 8583): a POS terminal's own count of its batch against the ledger's
// count of the same transactions. A batch is the terminal's transactions after its previous
// accepted batch (docs/iso8583.md); an accepted batch sent again is the same window as then.
import type { BatchTotals, BatchTotalsStore, BatchWindow } from './ports/terminal.js';
import { businessDateOf } from '../domain/business-day.js';
import type { Clock } from '../platform/clock.js';
import { KeyedMutex } from '../platform/mutex.js';

export type { BatchTotals } from './ports/terminal.js';

export class BatchReconciliation {
  private readonly perTerminal = new KeyedMutex();

  constructor(
    private readonly store: BatchTotalsStore,
    private readonly clock: Clock,
  ) {}

  /** Records the terminal's report of batch `batchNo`; true when the ledger's totals are the same (the batch is accepted). */
  async reconcile(terminalId: string, batchNo: string, reported: BatchTotals): Promise<boolean> {
    return this.perTerminal.run(terminalId, async () => {
      const window = await this.windowOf(terminalId, batchNo);
      const ledger = await this.store.ledgerTotals(terminalId, window);
      const equal =
        ledger.debitCount === reported.debitCount &&
        ledger.debitAmount === reported.debitAmount &&
        ledger.creditCount === reported.creditCount &&
        ledger.creditAmount === reported.creditAmount;
      await this.store.record({ terminalId, businessDate: businessDateOf(this.clock.now()), batchNo, reported, ledger, accepted: equal, ...window });
      return equal;
    });
  }

  private async windowOf(terminalId: string, batchNo: string): Promise<BatchWindow> {
    const last = await this.store.lastAccepted(terminalId);
    // The accepted batch sent again (its answer was lost): the same transactions as then.
    if (last && last.batchNo === batchNo) return { fromTransferId: last.fromTransferId, toTransferId: last.toTransferId };
    const fromTransferId = last?.toTransferId ?? 0n;
    return { fromTransferId, toTransferId: await this.store.windowEnd(terminalId, fromTransferId) };
  }
}
