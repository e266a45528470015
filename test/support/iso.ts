// ISO 8583 requests the integration tests send, built as a POS would (docs/iso8583.md).
import type { FieldValue } from '../../src/adapters/iso8583/codec.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';

/** The fields of a 0200 purchase at a retail demo merchant (the MAC is added when it is sent). */
export function purchaseFields(terminalId: string, cardNo: string, amountFen: number, stan: string, merchantId = 'M0000000000001'): Map<number, FieldValue> {
  return new Map<number, FieldValue>([
    [2, cardNo],
    [3, '000000'],
    [4, amountField(BigInt(amountFen))],
    [7, transmissionDateTime(new Date())],
    [11, stan],
    [41, terminalId],
    [42, merchantField(merchantId)],
    [49, '156'],
  ]);
}
