// End of a business day for metro journeys (DESIGN §7, §8): every journey still open at the end of
// the day is charged the maximum fare from its entry station, once per journey, and the day's
// journeys are written for ridership. The transit area does the rating and charging
// (`closeOpenJourneys`, docs/transit.md), idempotently: a rerun books nothing.
import { fileJson, writeReport, type JobContext, type JobResult } from './ports.js';
import type { CloseJourneysReport } from '../transit.js';

export type { CloseJourneysReport };

export interface JourneyCloser {
  closeOpenJourneys(businessDate: string): Promise<CloseJourneysReport>;
}

export async function runCloseJourneys(ctx: JobContext, deps: { closer: JourneyCloser }): Promise<JobResult> {
  await ctx.progress(5);
  const report = await deps.closer.closeOpenJourneys(ctx.businessDate);
  await ctx.checkpoint('close-journeys:closed');
  const result: JobResult = {
    businessDate: report.businessDate,
    metroCards: report.cards,
    journeysClosed: report.journeysClosed,
    closedFen: report.closedFen,
    adjustments: report.adjustments,
    adjustedFen: report.adjustedFen,
    declined: report.declined,
  };
  const file = await writeReport(ctx.reports, `close-journeys-${ctx.businessDate}.json`, (w) => w.line(JSON.stringify(result, null, 1)));
  return { ...result, file: fileJson(file) };
}
