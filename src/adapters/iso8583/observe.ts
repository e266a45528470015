// What the metrics see of an ISO 8583 answer: every message by MTI and code, and the financial
// ones (02xx, 04xx) as authorization decisions of the iso channel, named by their operation.
import { fieldText, type IsoMessage } from './codec.js';
import type { ResponseCode } from '../../domain/codes.js';
import type { Metrics } from '../../platform/metrics.js';

/** Processing code (F3) → operation, as the HTTP routes name theirs. */
const operations: Record<string, string> = {
  '000000': 'payment',
  '200000': 'refund',
  '210000': 'topup',
  '310000': 'balance',
  '190000': 'medical-settle',
  '191000': 'medical-settle',
  '290000': 'medical-cancel',
  '390000': 'medical-presettle',
  '391000': 'medical-presettle',
};

/** The operation of a financial request, or null for network management and batch totals. */
export function isoOperation(mti: string, msg: IsoMessage | null): string | null {
  if (mti === '0400' || mti === '0420') return 'reversal';
  if (mti !== '0200' && mti !== '0220') return null;
  const op = operations[(msg && fieldText(msg, 3)) ?? ''] ?? 'other';
  return mti === '0220' ? `${op}-advice` : op;
}

/** Known request MTIs keep their name; anything else is one label value (bounded cardinality). */
const knownMtis: ReadonlySet<string> = new Set(['0200', '0220', '0400', '0420', '0500', '0800']);

export function observeIsoAnswer(metrics: Metrics, answered: { mti: string; msg: IsoMessage | null; code: ResponseCode; seconds: number }): void {
  const mti = knownMtis.has(answered.mti) ? answered.mti : 'other';
  metrics.isoMessages.inc({ mti, code: answered.code });
  const operation = isoOperation(answered.mti, answered.msg);
  if (operation) metrics.decision('iso', operation, answered.code, answered.seconds);
}
