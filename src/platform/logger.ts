// Structured logging (pino), one line per event. Secrets are redacted by path; card numbers are
// masked by the code that logs them (maskCardNo), and full ones are redacted here as a last guard.
import { pino, type Logger } from 'pino';
import { prettyStream } from './log-pretty.js';

export type { Logger };

export const redactPaths = [
  'pin',
  'pinBlock',
  '*.pin',
  '*.pinBlock',
  'mak',
  '*.mak',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'cardNo',
  '*.cardNo',
  'idNumber',
  '*.idNumber',
  'req.headers.authorization',
  'body.pin',
  'body.pinBlock',
  'body.cardNo',
  'body.idNumber',
];

const panPattern = /\b(\d{4})\d{5,11}(\d{4})\b/g;

/** Masks anything shaped like a card number (13–19 digits) inside a string. */
export function maskPans(text: string): string {
  return text.replace(panPattern, (_m, head: string, tail: string) => `${head}********${tail}`);
}

/** Errors lose driver details that may carry arguments (Redis commands, SQL parameters). */
function errSerializer(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const plain = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  delete plain.command;
  delete plain.parameters;
  delete plain.args;
  return plain;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskPans(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  // An error's message and stack are not enumerable: serialize it first, or it logs as {}.
  if (value instanceof Error) return scrub(errSerializer(value), depth + 1);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

export type LogFormat = 'json' | 'pretty';

/** `auto` (LOG_FORMAT unset): pretty for a person at a terminal, JSON lines for pipes and files. */
export function resolveLogFormat(format: LogFormat | 'auto', stdoutIsTty = process.stdout.isTTY === true): LogFormat {
  return format === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : format;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  if (!destination && format === 'pretty') destination = prettyStream(process.stdout);
  return pino(
    {
      level,
      base: { svc: 'citizen-card' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: errSerializer },
      // Last guard: whatever a log line carries, a card number in it is masked.
      formatters: { log: (object) => scrub(object, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskPans(a) : a)) as Parameters<typeof method>;
          return method.apply(this, masked);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as pino.DestinationStream | undefined,
  );
}
