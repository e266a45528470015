// Shared TypeBox schemas: the schema is the validation and the documentation.
import { Type } from '@fastify/type-provider-typebox';
import { fenToJson } from '../../domain/money.js';

export const amountFenMax = 1_000_000_000_000; // 10 billion yuan: far above any limit, below 2^53

export const CardNo = Type.String({ pattern: '^[0-9]{16}$', description: '16-digit card number, last digit a Luhn check digit' });
export const ClientId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'client-chosen idempotency id' });
export const AmountFen = Type.Integer({ minimum: 1, maximum: amountFenMax, description: 'amount in fen (1 yuan = 100 fen)' });
export const Code = Type.String({ pattern: '^[0-9]{2}$', description: 'response code (DESIGN §4)' });
export const BalanceFen = Type.Integer({ description: 'balance in fen' });

/**
 * A page cursor (a ledger id from `nextCursor`): at most 18 digits, so it always fits PostgreSQL's
 * bigint (2^63 − 1 has 19); a longer one would be a range error (500) instead of a 400.
 */
export const Cursor = Type.String({ pattern: '^[0-9]{1,18}$', description: 'nextCursor of the page before' });
export const PageLimit = Type.String({ pattern: '^[0-9]{1,3}$', description: 'items per page (clamped to 1–100)' });
/** A real calendar day (ajv-formats `date`: 2026-02-30 and 9999-99-99 are refused). */
export const BusinessDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'business date YYYY-MM-DD (the day runs 04:00–04:00 Asia/Shanghai)' });

export const CardParams = Type.Object({ cardNo: Type.String({ pattern: '^[0-9]{1,19}$' }) });

/** bigint or numeric string → JSON number (amounts stay below 2^53 by the limits above). */
export function fen(value: bigint | string | number | undefined | null): number {
  if (value === undefined || value === null) return 0;
  return fenToJson(value);
}
