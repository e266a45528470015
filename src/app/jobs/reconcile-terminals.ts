// Terminal reconciliation of a business date (DESIGN §8): each terminal's reported batch totals
// (ISO 8583 0500 per batch, validator daily totals) against the ledger, and, where the terminal
// uploaded its transaction list, the transactions that explain a difference, by the ledger's op_id:
//   missing      reported by the terminal, not in the ledger;
//   extra        in the ledger, not reported by the terminal;
//   wrong amount in both, with different amounts.
// A debit is a command that charged the card side (purse, medical account, fund); a credit one that
// gave to it (refund, top-up, medical cancel); a command reversed the same day counts in neither.
// Terminals that report ISO 0500 batches are compared on what a batch covers (payments, refunds,
// top-ups). Mismatches carry response code 95. docs/operations.md has the details.
import { Code } from '../../domain/codes.js';
import { fenJson, fileJson, writeReport, type JobContext, type JobResult, type Json } from './ports.js';

/** Terminals in error named in the result (the report file names all of them). */
export const mismatchesInResultMax = 100;
/** Transactions named per terminal and kind of difference. */
export const txnsListedMax = 1000;

export interface Totals {
  debitCount: number;
  debitFen: bigint;
  creditCount: number;
  creditFen: bigint;
}

export interface TerminalDay {
  terminalId: string;
  /** Registered in the terminals table. */
  known: boolean;
  /** Sum of the terminal's reported batches of the day; null when it reported none. */
  reported: Totals | null;
  batches: number;
  ledger: Totals;
  /** The terminal uploaded a transaction list for the day. */
  hasList: boolean;
}

/** A reference whose signed amount differs between the ledger and the terminal's list (0 = absent). */
export interface TxnDiff {
  terminalId: string;
  reference: string;
  ledgerFen: bigint;
  reportedFen: bigint;
}

export interface ReconcileView {
  /** Every terminal with ledger activity, reported totals or a list, by terminal id (byte order). */
  terminals(): AsyncIterable<TerminalDay>;
  /** The differing references of terminals with a list, by terminal id then reference (byte order). */
  diffs(): AsyncIterable<TxnDiff>;
}

export interface ReconcileSource {
  view<T>(businessDate: string, work: (view: ReconcileView) => Promise<T>): Promise<T>;
}

const zero: Totals = { debitCount: 0, debitFen: 0n, creditCount: 0, creditFen: 0n };

function sameTotals(a: Totals, b: Totals): boolean {
  return a.debitCount === b.debitCount && a.debitFen === b.debitFen && a.creditCount === b.creditCount && a.creditFen === b.creditFen;
}

function totalsJson(t: Totals): Json {
  return { debitCount: t.debitCount, debitFen: fenJson(t.debitFen), creditCount: t.creditCount, creditFen: fenJson(t.creditFen) };
}

interface TerminalFinding {
  missing: Json[];
  extra: Json[];
  wrongAmount: Json[];
  counts: { missing: number; extra: number; wrongAmount: number };
}

function classify(finding: TerminalFinding, d: TxnDiff): void {
  if (d.ledgerFen === 0n) {
    finding.counts.missing++;
    if (finding.missing.length < txnsListedMax) finding.missing.push({ reference: d.reference, reportedFen: fenJson(d.reportedFen) });
  } else if (d.reportedFen === 0n) {
    finding.counts.extra++;
    if (finding.extra.length < txnsListedMax) finding.extra.push({ reference: d.reference, ledgerFen: fenJson(d.ledgerFen) });
  } else {
    finding.counts.wrongAmount++;
    if (finding.wrongAmount.length < txnsListedMax) finding.wrongAmount.push({ reference: d.reference, reportedFen: fenJson(d.reportedFen), ledgerFen: fenJson(d.ledgerFen) });
  }
}

export async function runReconcileTerminals(ctx: JobContext, deps: { source: ReconcileSource }): Promise<JobResult> {
  const date = ctx.businessDate;
  const counts = { terminals: 0, matched: 0, mismatched: 0, withoutTotals: 0, unknownTerminals: 0 };
  const inResult: Json[] = [];
  const withoutTotals: string[] = [];
  await ctx.progress(5);
  const file = await deps.source.view(date, (view) =>
    writeReport(ctx.reports, `reconcile-terminals-${date}.json`, async (w) => {
      await w.write(`{"businessDate":"${date}","mismatches":[`);
      const diffs = view.diffs()[Symbol.asyncIterator]();
      let pending = await diffs.next();
      let first = true;
      for await (const t of view.terminals()) {
        counts.terminals++;
        const finding: TerminalFinding = { missing: [], extra: [], wrongAmount: [], counts: { missing: 0, extra: 0, wrongAmount: 0 } };
        // Both streams are in byte order of terminal id: skip diffs of terminals not listed (none expected).
        while (!pending.done && pending.value.terminalId < t.terminalId) pending = await diffs.next();
        while (!pending.done && pending.value.terminalId === t.terminalId) {
          classify(finding, pending.value);
          pending = await diffs.next();
        }
        const listed = finding.counts.missing + finding.counts.extra + finding.counts.wrongAmount;
        if (!t.known) counts.unknownTerminals++;
        if (t.reported === null && listed === 0) {
          counts.withoutTotals++;
          if (withoutTotals.length < mismatchesInResultMax) withoutTotals.push(t.terminalId);
          continue;
        }
        const totalsMatch = t.reported !== null && sameTotals(t.reported, t.ledger);
        if (totalsMatch && listed === 0 && t.known) {
          counts.matched++;
          continue;
        }
        counts.mismatched++;
        const entry: Json = {
          terminalId: t.terminalId,
          code: Code.reconcileError,
          known: t.known,
          batches: t.batches,
          reported: t.reported === null ? null : totalsJson(t.reported),
          ledger: totalsJson(t.ledger ?? zero),
          totalsMatch,
          hasList: t.hasList,
          counts: finding.counts,
          missing: finding.missing,
          extra: finding.extra,
          wrongAmount: finding.wrongAmount,
        };
        if (inResult.length < mismatchesInResultMax) inResult.push(entry);
        await w.write(`${first ? '\n' : ',\n'}${JSON.stringify(entry)}`);
        first = false;
        await ctx.checkpoint('reconcile-terminals:terminal');
      }
      await w.line(`],\n"summary":${JSON.stringify(counts)}}`);
    }),
  );
  if (counts.mismatched > 0) ctx.log.warn({ job: ctx.name, businessDate: date, mismatched: counts.mismatched }, 'terminal totals differ from the ledger');
  return { businessDate: date, ...counts, mismatches: inResult, terminalsWithoutTotals: withoutTotals, file: fileJson(file) };
}
