// The one response-code table (DESIGN §4): ISO 8583 field 39 and the HTTP `code` field, with the
// HTTP status a request error maps to. Every adapter answers through this module.

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

export const codeMeaning: Record<ResponseCode, string> = {
  '00': 'approved',
  '05': 'do not honour',
  '12': 'invalid transaction',
  '13': 'invalid amount',
  '14': 'invalid card number',
  '25': 'original transaction not found',
  '30': 'format error',
  '41': 'lost card',
  '43': 'card blocked',
  '51': 'insufficient funds',
  '54': 'expired card',
  '55': 'incorrect PIN',
  '57': 'not permitted to cardholder',
  '58': 'not permitted to terminal',
  '61': 'exceeds amount limit',
  '63': 'security violation',
  '65': 'exceeds frequency limit',
  '75': 'PIN tries exceeded',
  '91': 'issuer or switch inoperative',
  '94': 'duplicate transmission with different content',
  '95': 'reconcile error',
  '96': 'system malfunction',
};

/** HTTP status for a code when it is a request error rather than a business decline. */
export const codeHttpStatus: Partial<Record<ResponseCode, number>> = {
  '30': 400,
  '94': 409,
  '91': 503,
  '96': 500,
};

export function isResponseCode(value: string): value is ResponseCode {
  return Object.prototype.hasOwnProperty.call(codeMeaning, value);
}
