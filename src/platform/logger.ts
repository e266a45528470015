// Structured logging (pino), one line per event. Secrets are redacted by path; card numbers are
// masked by the code that logs them (maskCardNo), and full ones are redacted here as a last guard.
import { pino, type Logger } from 'pino';

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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'citizen-card' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as pino.DestinationStream | undefined,
  );
}
