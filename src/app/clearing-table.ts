// The clearing job's settlement CSV (src/app/jobs/clearing.ts) read back as a table for the
// operations console: one row per party (with late catch-ups marked) and the file's TOTAL line.
import { clearingCsvHeader } from './jobs/clearing.js';

/** Party rows shown at most: a day has tens of parties, a file with more is cut (and says so). */
export const clearingTableRowsMax = 500;

export interface ClearingRow {
  partyType: string;
  partyId: string;
  account: string;
  /** Set when the row settles postings that reached an earlier, already cleared date. */
  lateDate: string | null;
  count: number;
  grossFen: number;
  commissionRate: string;
  commissionFen: number;
  netFen: number;
}

export interface ClearingTable {
  businessDate: string;
  rows: ClearingRow[];
  total: { count: number; grossFen: number; commissionFen: number; netFen: number } | null;
  truncated: boolean;
}

/** One RFC 4180 line into fields (the job quotes a field only when it holds a comma or quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      out.push(value);
      i++; // the comma after the closing quote
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

function integer(field: string | undefined, what: string): number {
  const n = /^-?\d+$/.test(field ?? '') ? Number(field) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`clearing file: ${what} ${JSON.stringify(field)} is not a whole number`);
  return n;
}

/** The table of a clearing file; throws on a file that is not one (wrong header, bad number). */
export function parseClearingCsv(businessDate: string, text: string): ClearingTable {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== clearingCsvHeader.join(',')) throw new Error('clearing file: unexpected header');
  const col = (name: string) => clearingCsvHeader.indexOf(name);
  const rows: ClearingRow[] = [];
  let total: ClearingTable['total'] = null;
  let truncated = false;
  for (const line of lines.slice(1)) {
    const f = csvFields(line);
    const amounts = {
      count: integer(f[col('postings')], 'postings'),
      grossFen: integer(f[col('gross_fen')], 'gross_fen'),
      commissionFen: integer(f[col('commission_fen')], 'commission_fen'),
      netFen: integer(f[col('net_fen')], 'net_fen'),
    };
    if (f[col('party_type')] === 'TOTAL') {
      total = amounts;
      continue;
    }
    if (rows.length >= clearingTableRowsMax) {
      truncated = true;
      continue;
    }
    const date = f[col('business_date')] ?? '';
    rows.push({
      partyType: f[col('party_type')] ?? '',
      partyId: f[col('party_id')] ?? '',
      account: f[col('account')] ?? '',
      lateDate: date === businessDate ? null : date,
      count: amounts.count,
      grossFen: amounts.grossFen,
      commissionRate: f[col('commission_rate')] ?? '',
      commissionFen: amounts.commissionFen,
      netFen: amounts.netFen,
    });
  }
  return { businessDate, rows, total, truncated };
}
