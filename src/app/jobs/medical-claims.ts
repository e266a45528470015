// The social-security fund's claim file of a business date (DESIGN §8): every medical settlement
// and cancel of the day with the fund's share (cancels negative), what the card's medical account
// and purse paid, and the totals. Made from the ledger's transfers of kind 'medical-settle' and
// 'medical-cancel' (the fund leg debits, or for a cancel credits, `medical_fund`).
import { csvLine, fenJson, fileJson, writeReport, type JobContext, type JobResult } from './ports.js';

export const medicalOpKinds = ['medical-settle', 'medical-cancel'] as const;

/** One claim command of the day, amounts signed from the fund's and card's side (cancel < 0). */
export interface ClaimDay {
  opKind: string;
  claimId: string;
  cardNo: string | null;
  merchantId: string | null;
  terminalId: string | null;
  fundFen: bigint;
  medicalFen: bigint;
  purseFen: bigint;
}

export interface MedicalClaimsSource {
  /** The day's claim commands by claim id, settle before cancel. */
  claims(businessDate: string): AsyncIterable<ClaimDay>;
}

export const medicalClaimsCsvHeader = ['business_date', 'claim_id', 'kind', 'merchant_id', 'terminal_id', 'card_no', 'fund_fen', 'medical_account_fen', 'purse_fen', 'card_paid_fen'];

export function medicalClaimsFileName(businessDate: string): string {
  return `medical-claims-${businessDate}.csv`;
}

export async function runMedicalClaims(ctx: JobContext, deps: { source: MedicalClaimsSource }): Promise<JobResult> {
  const date = ctx.businessDate;
  const t = { settlements: 0, cancels: 0, fundFen: 0n, medicalFen: 0n, purseFen: 0n };
  await ctx.progress(5);
  const file = await writeReport(ctx.reports, medicalClaimsFileName(date), async (w) => {
    await w.line(csvLine(medicalClaimsCsvHeader));
    for await (const c of deps.source.claims(date)) {
      const kind = c.opKind === 'medical-cancel' ? 'cancel' : 'settle';
      if (kind === 'cancel') t.cancels++;
      else t.settlements++;
      t.fundFen += c.fundFen;
      t.medicalFen += c.medicalFen;
      t.purseFen += c.purseFen;
      await w.line(csvLine([date, c.claimId, kind, c.merchantId ?? '', c.terminalId ?? '', c.cardNo ?? '', c.fundFen, c.medicalFen, c.purseFen, c.medicalFen + c.purseFen]));
    }
    await w.line(csvLine([date, 'TOTAL', `${t.settlements} settle / ${t.cancels} cancel`, '', '', '', t.fundFen, t.medicalFen, t.purseFen, t.medicalFen + t.purseFen]));
  });
  return {
    businessDate: date,
    settlements: t.settlements,
    cancels: t.cancels,
    fundFen: fenJson(t.fundFen),
    medicalAccountFen: fenJson(t.medicalFen),
    purseFen: fenJson(t.purseFen),
    file: fileJson(file),
  };
}
