// The one response-code table (DESIGN §4): ISO 8583 field 39 and the HTTP `code` field, each code
// with its meaning and its HTTP answer. Every adapter answers through this module.

export const Code = {
  approved: '00',
  doNotHonour: '05',
  invalidTransaction: '12',
  invalidAmount: '13',
  invalidCard: '14',
  originalNotFound: '25',
  formatError: '30',
  lostCard: '41',
  blockedCard: '43',
  insufficientFunds: '51',
  expiredCard: '54',
  incorrectPin: '55',
  notPermittedCardholder: '57',
  notPermittedTerminal: '58',
  exceedsAmountLimit: '61',
  securityViolation: '63',
  exceedsFrequency: '65',
  pinTriesExceeded: '75',
  issuerInoperative: '91',
  duplicateDifferent: '94',
  reconcileError: '95',
  systemMalfunction: '96',
} as const;

export type ResponseCode = (typeof Code)[keyof typeof Code];

/**
 * What a code answers on an authorization call (payment, top-up, refund, tap, settlement): a
 * business result is HTTP 200 with `approved` and the code; 'problem' means nothing was decided
 * and the request itself is refused with the code's `httpStatus` (DESIGN §4).
 */
export type AuthorizationAnswer = 'result' | 'problem';

export interface CodeEntry {
  meaning: string;
  /**
   * The HTTP status of a problem answer (application/problem+json) carrying this code; 200 for a
   * code that is only ever a business result. A lookup that finds nothing is 404 whatever its code.
   */
  httpStatus: number;
  authorization: AuthorizationAnswer;
}

/** The one table: every code with its meaning and its HTTP answer. */
export const responseCodes: Record<ResponseCode, CodeEntry> = {
  '00': { meaning: 'approved', httpStatus: 200, authorization: 'result' },
  '05': { meaning: 'do not honour', httpStatus: 200, authorization: 'result' },
  '12': { meaning: 'invalid transaction', httpStatus: 404, authorization: 'result' },
  '13': { meaning: 'invalid amount', httpStatus: 400, authorization: 'result' },
  '14': { meaning: 'invalid card number', httpStatus: 400, authorization: 'result' },
  '25': { meaning: 'original transaction not found', httpStatus: 404, authorization: 'result' },
  '30': { meaning: 'format error', httpStatus: 400, authorization: 'result' },
  '41': { meaning: 'lost card', httpStatus: 200, authorization: 'result' },
  '43': { meaning: 'card blocked', httpStatus: 200, authorization: 'result' },
  '51': { meaning: 'insufficient funds', httpStatus: 200, authorization: 'result' },
  '54': { meaning: 'expired card', httpStatus: 200, authorization: 'result' },
  '55': { meaning: 'incorrect PIN', httpStatus: 200, authorization: 'result' },
  '57': { meaning: 'not permitted to cardholder', httpStatus: 403, authorization: 'result' },
  '58': { meaning: 'not permitted to terminal', httpStatus: 403, authorization: 'result' },
  '61': { meaning: 'exceeds amount limit', httpStatus: 200, authorization: 'result' },
  '63': { meaning: 'security violation', httpStatus: 401, authorization: 'result' },
  '65': { meaning: 'exceeds frequency limit', httpStatus: 429, authorization: 'result' },
  '75': { meaning: 'PIN tries exceeded', httpStatus: 200, authorization: 'result' },
  '91': { meaning: 'issuer or switch inoperative', httpStatus: 503, authorization: 'problem' },
  '94': { meaning: 'duplicate transmission with different content', httpStatus: 409, authorization: 'problem' },
  '95': { meaning: 'reconcile error', httpStatus: 409, authorization: 'result' },
  '96': { meaning: 'system malfunction', httpStatus: 500, authorization: 'result' },
};

export const codeMeaning = Object.fromEntries(Object.entries(responseCodes).map(([code, entry]) => [code, entry.meaning])) as Record<ResponseCode, string>;

export function isResponseCode(value: string): value is ResponseCode {
  return Object.prototype.hasOwnProperty.call(codeMeaning, value);
}
