// Log lines for a person at a terminal: pino's JSON lines turned into "time LEVEL message key=value".
// Used when stdout is a TTY (or LOG_FORMAT=pretty); pipes and files keep one JSON object per line.
import { Writable } from 'node:stream';

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that only pino needs: not repeated on each line. */
const hiddenKeys: ReadonlySet<string> = new Set(['time', 'level', 'msg', 'svc', 'pid', 'hostname']);
/** A value longer than this is cut (a job result, a policy) so that a line stays a line. */
export const prettyValueCharsMax = 300;

function value(v: unknown): string {
  const text = typeof v === 'string' ? (/[\s="]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v);
  return text.length > prettyValueCharsMax ? `${text.slice(0, prettyValueCharsMax)}…` : text;
}

/** One JSON log line as a readable line (a stack, when there is one, on the lines below). */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const level = (levelNames[Number(entry.level)] ?? String(entry.level)).padEnd(5);
  const parts: string[] = [];
  let stack = '';
  for (const [key, v] of Object.entries(entry)) {
    if (hiddenKeys.has(key) || v === undefined) continue;
    if (key === 'err' && v && typeof v === 'object') {
      const err = v as { message?: string; stack?: string };
      parts.push(`err=${value(err.message ?? '')}`);
      if (err.stack) stack = `\n    ${err.stack.split('\n').slice(1).join('\n    ').trim()}`;
      continue;
    }
    parts.push(`${key}=${value(v)}`);
  }
  return `${time} ${level} ${String(entry.msg ?? '')}${parts.length ? `  ${parts.join(' ')}` : ''}${stack}`;
}

/** A stream for pino that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(`${prettyLine(line)}\n`);
      done();
    },
  });
}
