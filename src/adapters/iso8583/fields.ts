// Field conventions of the gateway beyond the wire format (docs/iso8583.md): which fields an answer
// echoes, the balance entries of field 54, the session keys in field 60 of an 0810, and field 90.
// Pure: shared by the server, the POS program and the tests.

/** Fields a response copies from its request when present (DESIGN §6). */
export const echoedFields = [2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49] as const;

/**
 * Field 54 account types: 10 the purse, 20 the medical account; in a medical settlement's answer
 * also 30 the pooled fund and 40 cash. Amount types: 02 available balance, 90 (private) paid in
 * this transaction.
 */
export const AccountType = { purse: '10', medical: '20', fund: '30', cash: '40' } as const;
export const amountTypeAvailable = '02';
export const amountTypePaid = '90';
export const currencyCny = '156';
const balanceEntryChars = 20;
const amountDigits = 12;

/** One 20-character entry: account type 2, amount type 2, currency 3, sign C/D, amount 12. */
export function balanceEntry(accountType: string, amountFen: bigint, amountType: string = amountTypeAvailable): string {
  const sign = amountFen < 0n ? 'D' : 'C';
  const abs = amountFen < 0n ? -amountFen : amountFen;
  const digits = abs.toString();
  if (digits.length > amountDigits) throw new RangeError('balance above 12 digits');
  return `${accountType}${amountType}${currencyCny}${sign}${digits.padStart(amountDigits, '0')}`;
}

export interface BalanceEntry {
  accountType: string;
  amountType: string;
  currency: string;
  amountFen: bigint;
}

/** Parses field 54 (any number of entries); throws RangeError on a malformed value. */
export function parseBalances(field54: string): BalanceEntry[] {
  if (field54.length % balanceEntryChars !== 0) throw new RangeError('field 54 is a multiple of 20 characters');
  const out: BalanceEntry[] = [];
  for (let i = 0; i < field54.length; i += balanceEntryChars) {
    const m = /^(\d\d)(\d\d)(\d{3})([CD])(\d{12})$/.exec(field54.slice(i, i + balanceEntryChars));
    if (!m) throw new RangeError('malformed field 54 entry');
    const amount = BigInt(m[5]!);
    out.push({ accountType: m[1]!, amountType: m[2]!, currency: m[3]!, amountFen: m[4] === 'D' ? -amount : amount });
  }
  return out;
}

/** Field 60 of an 0810 answering sign-on or key change. */
export interface SessionKeysText {
  makUnderTmk: string;
  makKcv: string;
  tpkUnderTmk: string;
  tpkKcv: string;
}

export function formatSessionKeys(k: SessionKeysText): string {
  return `MAK:${k.makUnderTmk}:${k.makKcv};TPK:${k.tpkUnderTmk}:${k.tpkKcv}`;
}

export function parseSessionKeys(field60: string): SessionKeysText | null {
  const m = /^MAK:([0-9A-F]{32}):([0-9A-F]{6});TPK:([0-9A-F]{32}):([0-9A-F]{6})$/.exec(field60);
  return m ? { makUnderTmk: m[1]!, makKcv: m[2]!, tpkUnderTmk: m[3]!, tpkKcv: m[4]! } : null;
}

/** Field 90: original MTI 4, STAN 6, transmission date-time 10, acquirer 11, forwarding 11. */
export interface OriginalData {
  mti: string;
  stan: string;
  transmitted: string;
  acquirer: string;
  forwarding: string;
}

export function parseOriginalData(field90: string): OriginalData | null {
  const m = /^(\d{4})(\d{6})(\d{10})(\d{11})(\d{11})$/.exec(field90);
  return m ? { mti: m[1]!, stan: m[2]!, transmitted: m[3]!, acquirer: m[4]!, forwarding: m[5]! } : null;
}

export function formatOriginalData(o: { mti: string; stan: string; transmitted: string; acquirer?: string; forwarding?: string }): string {
  return o.mti + o.stan + o.transmitted + (o.acquirer ?? '').padStart(11, '0') + (o.forwarding ?? '').padStart(11, '0');
}

/** Field 7 for an instant: MMDDhhmmss in UTC. */
export function transmissionDateTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return p(at.getUTCMonth() + 1) + p(at.getUTCDate()) + p(at.getUTCHours()) + p(at.getUTCMinutes()) + p(at.getUTCSeconds());
}

/** Field 4: fen as 12 digits. */
export function amountField(amountFen: bigint): string {
  return amountFen.toString().padStart(amountDigits, '0');
}

/** Retrieval reference number the gateway assigns when the request had none: the transaction id, 12 digits. */
export function rrnOf(transactionId: string): string {
  return transactionId.slice(-amountDigits).padStart(amountDigits, '0');
}

/** Field 42 as sent: the merchant id right-padded with spaces to 15. */
export function merchantField(merchantId: string): string {
  return merchantId.padEnd(15, ' ');
}
