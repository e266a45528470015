// Shared TypeBox schemas: the schema is the validation and the documentation.
import { Type } from '@fastify/type-provider-typebox';
import { fenToJson } from '../../domain/money.js';

export const amountFenMax = 1_000_000_000_000; // 10 billion yuan: far above any limit, below 2^53

export const CardNo = Type.String({ pattern: '^[0-9]{16}$', description: '16-digit card number, last digit a Luhn check digit' });
export const ClientId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'client-chosen idempotency id' });
export const AmountFen = Type.Integer({ minimum: 1, maximum: amountFenMax, description: 'amount in fen (1 yuan = 100 fen)' });
export const Code = Type.String({ pattern: '^[0-9]{2}$', description: 'response code (DESIGN §4)' });
export const BalanceFen = Type.Integer({ description: 'balance in fen' });

export const CardParams = Type.Object({ cardNo: Type.String({ pattern: '^[0-9]{1,19}$' }) });

/** bigint or numeric string → JSON number (amounts stay below 2^53 by the limits above). */
export function fen(value: bigint | string | number | undefined | null): number {
  if (value === undefined || value === null) return 0;
  return fenToJson(value);
}
