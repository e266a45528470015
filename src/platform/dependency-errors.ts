// Tells a dependency outage (Redis or PostgreSQL unreachable, connection lost, pool exhausted) from
// a bug: an outage answers 503 with code 91 (retry later), a bug 500 with 96 (DESIGN §4, §11).

const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);
const connectionMessages = /Connection is closed|Stream isn't writeable|Reached the max retries per request limit|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Connection ended|is not currently accepting connections|the database system is (starting up|shutting down)/i;

export function isDependencyDown(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (connectionMessages.test(error.message)) return true;
  if (error instanceof AggregateError) return error.errors.some((e) => isDependencyDown(e, depth + 1));
  return isDependencyDown(error.cause, depth + 1);
}
