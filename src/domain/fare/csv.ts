// A small RFC 4180 CSV reader for GTFS files: quoted fields (with commas, "" for a quote, even line
// breaks), CRLF or LF, a leading BOM; rows come back keyed by the header's field names.

export class CsvError extends Error {
  override name = 'CsvError';
}

/** Splits CSV text into rows of raw fields; `line` is where each row starts (1-based), for messages. */
function records(text: string, fileName: string): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  const endField = (): void => {
    fields.push(field);
    field = '';
    quoted = false;
  };
  const endRow = (): void => {
    endField();
    // A blank line is not a record (GTFS files often end with one).
    if (!(fields.length === 1 && fields[0] === '' && !quoted)) out.push({ fields, line: rowLine });
    fields = [];
  };
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inQuotes) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '' && !quoted) {
      inQuotes = true;
      quoted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
  }
  if (inQuotes) throw new CsvError(`${fileName}:${rowLine}: unterminated quoted field`);
  if (field !== '' || fields.length > 0 || quoted) endRow();
  return out;
}

/** Parses a CSV file with a header row; every row must have as many fields as the header. */
export function parseCsv(text: string, fileName = 'csv'): Record<string, string>[] {
  const [header, ...rows] = records(text, fileName);
  if (!header) return [];
  const names = header.fields.map((n) => n.trim());
  return rows.map(({ fields, line }) => {
    if (fields.length !== names.length) throw new CsvError(`${fileName}:${line}: expected ${names.length} fields, found ${fields.length}`);
    const row: Record<string, string> = {};
    names.forEach((n, i) => (row[n] = fields[i] ?? ''));
    return row;
  });
}
