// Reading the nightly jobs' report files back (the console's clearing table, the admin download):
// only names the jobs write (<job>-YYYY-MM-DD.csv|json), only regular files directly in REPORTS_DIR,
// so that no request can reach a path outside it.
import { createReadStream, type ReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { reportNamePattern } from './report-file.js';

/** Report files served or read whole at most: a clearing file of a city's parties is far smaller. */
export const reportReadBytesMax = 16 * 1024 * 1024;

export type ReportLookup = { status: 'ok'; path: string; bytes: number } | { status: 'bad-name' } | { status: 'missing' } | { status: 'too-large'; bytes: number };

/** Where a report of this name is, if the name is one the jobs write and the file exists as a regular file. */
export async function findReport(dir: string, fileName: string): Promise<ReportLookup> {
  if (!reportNamePattern.test(fileName)) return { status: 'bad-name' };
  const root = path.resolve(dir);
  const target = path.resolve(root, fileName);
  if (path.dirname(target) !== root) return { status: 'bad-name' };
  const info = await lstat(target).catch(() => null);
  // A symbolic link or directory under a report's name is not a report.
  if (!info || !info.isFile()) return { status: 'missing' };
  if (info.size > reportReadBytesMax) return { status: 'too-large', bytes: info.size };
  return { status: 'ok', path: target, bytes: info.size };
}

export function openReport(found: { path: string }): ReadStream {
  return createReadStream(found.path);
}

export async function readReport(found: { path: string }): Promise<string> {
  return readFile(found.path, 'utf8');
}

/** The business date of the newest `<job>-YYYY-MM-DD.csv` in the directory, or null. */
export async function latestReportDate(dir: string, job: string): Promise<string | null> {
  const names = await readdir(path.resolve(dir)).catch(() => [] as string[]);
  const dates = names.map((n) => new RegExp(`^${job}-(\\d{4}-\\d{2}-\\d{2})\\.csv$`).exec(n)?.[1]).filter((d): d is string => d !== undefined);
  return dates.sort().at(-1) ?? null;
}
