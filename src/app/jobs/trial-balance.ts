// The trial balance as a nightly check (DESIGN §8): all account balances sum to zero and every
// stored balance equals the sum of its postings. An unbalanced ledger is a result (balanced: false,
// the accounts named), not a job failure: the run is recorded and the finance staff are told.
import { maskCardNo } from '../../domain/card-number.js';
import { fenJson, fileJson, writeReport, type JobContext, type JobResult } from './ports.js';

export interface TrialBalance {
  balanced: boolean;
  total: bigint;
  accounts: { kind: string; count: number; balance: bigint }[];
  mismatched: { accountId: bigint; kind: string; ownerId: string; balance: bigint; postings: bigint }[];
}

export interface TrialBalanceSource {
  trialBalance(): Promise<TrialBalance>;
}

const cardOwned = new Set(['purse', 'medical']);

export async function runTrialBalance(ctx: JobContext, deps: { journal: TrialBalanceSource }): Promise<JobResult> {
  await ctx.progress(10);
  const tb = await deps.journal.trialBalance();
  const result: JobResult = {
    businessDate: ctx.businessDate,
    balanced: tb.balanced,
    totalFen: fenJson(tb.total),
    accounts: tb.accounts.map((a) => ({ kind: a.kind, count: a.count, balanceFen: fenJson(a.balance) })),
    mismatched: tb.mismatched.map((m) => ({
      accountId: Number(m.accountId),
      kind: m.kind,
      ownerId: cardOwned.has(m.kind) ? maskCardNo(m.ownerId) : m.ownerId,
      balanceFen: fenJson(m.balance),
      postingsFen: fenJson(m.postings),
    })),
  };
  if (!tb.balanced) ctx.log.error({ job: ctx.name, businessDate: ctx.businessDate, totalFen: result.totalFen, mismatched: tb.mismatched.length }, 'trial balance does not balance');
  const file = await writeReport(ctx.reports, `trial-balance-${ctx.businessDate}.json`, (w) => w.line(JSON.stringify(result, null, 1)));
  return { ...result, file: fileJson(file) };
}
