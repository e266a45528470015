// The clearing file read back for the console: RFC 4180 fields (quoted commas and quotes), late
// catch-up rows marked, the TOTAL line apart, and a file that is not a clearing file refused.
import { describe, expect, it } from 'vitest';
import { csvFields, parseClearingCsv } from '../../src/app/clearing-table.js';
import { clearingCsvHeader } from '../../src/app/jobs/clearing.js';
import { csvLine } from '../../src/app/jobs/ports.js';

const header = clearingCsvHeader.join(',');

describe('clearing table', () => {
  it('splits fields as csvLine writes them', () => {
    for (const fields of [['a', 'b,c', 'd"e', ''], ['', ''], ['x'], ['"', ',', '""']]) expect(csvFields(csvLine(fields))).toEqual(fields);
  });

  it('reads party rows, late rows and the total', () => {
    const text = [
      header,
      csvLine(['2024-05-01', 'operator', 'ZZBUS', 'receivable', 6, 1300, 0, 1300, '0.005000', 6, 1294]),
      csvLine(['2024-05-01', 'merchant', 'M,1', 'payable', 2, 13000, 0, 13000, '0.006000', 78, 12922]),
      csvLine(['2024-04-30', 'operator', 'ZZBUS', 'receivable', 1, 200, 0, 200, '0.005000', 1, 199]),
      csvLine(['2024-05-01', 'TOTAL', '', '', 8, 14300, 0, 14500, '', 85, 14415]),
    ].join('\n');
    const t = parseClearingCsv('2024-05-01', `${text}\n`);
    expect(t.rows.map((r) => [r.partyId, r.lateDate, r.count, r.grossFen, r.commissionFen, r.netFen])).toEqual([
      ['ZZBUS', null, 6, 1300, 6, 1294],
      ['M,1', null, 2, 13000, 78, 12922],
      ['ZZBUS', '2024-04-30', 1, 200, 1, 199],
    ]);
    expect(t.total).toEqual({ count: 8, grossFen: 14500, commissionFen: 85, netFen: 14415 });
    expect(t.truncated).toBe(false);
  });

  it('refuses a file that is not a clearing file or carries a number that is not whole', () => {
    expect(() => parseClearingCsv('2024-05-01', 'a,b\n1,2\n')).toThrow(/header/);
    expect(() => parseClearingCsv('2024-05-01', `${header}\n${csvLine(['2024-05-01', 'operator', 'X', 'receivable', 1, 1, 0, '1.5', '0', 0, 1])}\n`)).toThrow(/gross_fen/);
    expect(() => parseClearingCsv('2024-05-01', `${header}\n${csvLine(['2024-05-01', 'operator', 'X', 'receivable', 1, 1, 0, '99999999999999999999', '0', 0, 1])}\n`)).toThrow(/gross_fen/);
  });
});
