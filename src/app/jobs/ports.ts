// What a nightly job gets to work with: its run (name, business date, attempt), progress reporting,
// report files, and the checkpoints where tests inject a crash. Data sources are declared by each
// job beside its logic and implemented in src/adapters/jobs.
import type { Logger } from '../../platform/logger.js';
import type { JobName } from './calendar.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JobResult = { [key: string]: Json };

export interface ReportFile {
  path: string;
  fileName: string;
  bytes: number;
  lines: number;
  sha256: string;
}

/** A report being written: appended to, then committed whole (or aborted, leaving nothing). */
export interface ReportWriter {
  write(text: string): Promise<void>;
  line(text: string): Promise<void>;
  commit(): Promise<ReportFile>;
  abort(): Promise<void>;
}

export interface ReportSink {
  open(fileName: string): Promise<ReportWriter>;
}

export interface JobContext {
  readonly name: JobName;
  readonly businessDate: string;
  readonly jobId: string;
  /** 1 for the first attempt of this run. */
  readonly attempt: number;
  readonly log: Logger;
  readonly reports: ReportSink;
  /** 0–100; stored in PostgreSQL and shown on the dashboard. */
  progress(percent: number): Promise<void>;
  /** A named point of the run. Does nothing in production; tests make it throw ("killed halfway"). */
  checkpoint(point: string): Promise<void>;
}

export type JobRunner = (ctx: JobContext) => Promise<JobResult>;

/** Fen in a result: a JSON integer (one conversion for the whole product, src/domain/money.ts). */
export { fenToJson as fenJson } from '../../domain/money.js';

/** Writes a report through `fill`, committing it only when `fill` completes. */
export async function writeReport(sink: ReportSink, fileName: string, fill: (w: ReportWriter) => Promise<void>): Promise<ReportFile> {
  const writer = await sink.open(fileName);
  try {
    await fill(writer);
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export function fileJson(file: ReportFile): JobResult {
  return { fileName: file.fileName, bytes: file.bytes, lines: file.lines, sha256: file.sha256 };
}

/** One CSV field (RFC 4180): quoted only when it holds a comma, quote or line break. */
export function csvField(value: string | number | bigint): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: (string | number | bigint)[]): string {
  return values.map(csvField).join(',');
}
