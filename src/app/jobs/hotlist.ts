// The readers' hotlist of a business date (DESIGN §8): first brings debt into the versioned change
// log (a purse below zero is listed for 'debt'; one back at zero or above, listed for debt, is
// 'cleared'), then writes the whole list at the current version with the delta since the version
// of the previous date's file, for validators that hold that one.
import { fenJson, fileJson, writeReport, type JobContext, type JobResult } from './ports.js';

export interface HotlistEntry {
  cardNo: string;
  listed: boolean;
  reason: string;
  version: bigint;
}

export interface HotlistSource {
  /** Records debt listings and clearances in the change log; idempotent (only changes are written). */
  syncDebt(): Promise<{ listedForDebt: number; clearedOfDebt: number }>;
  /** One consistent view of the change log. */
  view<T>(work: (view: HotlistView) => Promise<T>): Promise<T>;
  /** Version written in the last completed hotlist file of a date before this one; null if none. */
  previousFileVersion(businessDate: string): Promise<bigint | null>;
}

export interface HotlistView {
  version(): Promise<bigint>;
  /** Cards listed at `version` (their latest change up to it), by card number. */
  listed(version: bigint): AsyncIterable<HotlistEntry>;
  /** Each card's latest change in (since, upTo], by card number. */
  changes(since: bigint, upTo: bigint): AsyncIterable<HotlistEntry>;
}

export function hotlistFileName(businessDate: string): string {
  return `hotlist-${businessDate}.json`;
}

function entryJson(e: HotlistEntry, withListed: boolean): string {
  return JSON.stringify(withListed ? { cardNo: e.cardNo, listed: e.listed, reason: e.reason, version: Number(e.version) } : { cardNo: e.cardNo, reason: e.reason, version: Number(e.version) });
}

/** The offline budgets published beside the hotlist (src/adapters/postgres/offline-budgets.ts). */
export interface BudgetSync {
  sync(): Promise<{ changed: number; cards: number; rides: number; version: bigint; rideMaxFen: bigint }>;
}

export async function runHotlist(ctx: JobContext, deps: { source: HotlistSource; budgets?: BudgetSync }): Promise<JobResult> {
  const { source } = deps;
  await ctx.progress(5);
  const synced = await source.syncDebt();
  await ctx.checkpoint('hotlist:synced');
  // After the debt sync: a card just listed for debt gets no rides (its balance is below zero).
  const b = deps.budgets ? await deps.budgets.sync() : null;
  await ctx.progress(40);
  const previous = await source.previousFileVersion(ctx.businessDate);
  const since = previous ?? 0n;
  const counts = { listed: 0, changes: 0, byReason: {} as Record<string, number> };
  let version = 0n;
  const file = await source.view(async (view) => {
    version = await view.version();
    return writeReport(ctx.reports, hotlistFileName(ctx.businessDate), async (w) => {
      await w.write(`{"businessDate":"${ctx.businessDate}","version":${version},"previousVersion":${previous === null ? 'null' : previous},\n"listed":[`);
      let first = true;
      for await (const e of view.listed(version)) {
        await w.write(`${first ? '\n' : ',\n'}${entryJson(e, false)}`);
        first = false;
        counts.listed++;
        counts.byReason[e.reason] = (counts.byReason[e.reason] ?? 0) + 1;
      }
      await w.write(`],\n"delta":{"since":${since},"changes":[`);
      first = true;
      for await (const e of view.changes(since, version)) {
        await w.write(`${first ? '\n' : ',\n'}${entryJson(e, true)}`);
        first = false;
        counts.changes++;
      }
      await w.line(']}}');
    });
  });
  return {
    businessDate: ctx.businessDate,
    version: Number(version),
    previousVersion: previous === null ? null : Number(previous),
    listedForDebt: synced.listedForDebt,
    clearedOfDebt: synced.clearedOfDebt,
    listed: counts.listed,
    byReason: counts.byReason,
    deltaChanges: counts.changes,
    ...(b
      ? {
          // exposureMaxFen: what every published budget lets through at one offline reader; each
          // card's part is covered by its balance when published (rides × rideMaxFen ≤ balance).
          offlineBudgets: { version: Number(b.version), changed: b.changed, cards: b.cards, rides: b.rides, rideMaxFen: fenJson(b.rideMaxFen), exposureMaxFen: fenJson(BigInt(b.rides) * b.rideMaxFen) },
        }
      : {}),
    file: fileJson(file),
  };
}
