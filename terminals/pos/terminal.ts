// A merchant POS terminal speaking the ISO 8583 profile (docs/iso8583.md): STANs, MACs under its
// session MAK, PIN blocks under its PIN key, sign-on key installation (checked by KCV), and the
// running batch totals it reports with 0500.
import { fieldText, macInput, macOf, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { decryptKey, keyCheckValue } from '../../src/adapters/iso8583/keys.js';
import { verifyMac } from '../../src/adapters/iso8583/mac.js';
import { encryptPinBlock } from '../../src/adapters/iso8583/pinblock.js';
import { encodeMessage } from '../../src/adapters/iso8583/codec.js';
import { amountField, formatOriginalData, merchantField, parseBalances, parseSessionKeys, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import type { IsoClient } from './client.js';

export interface PosKeys {
  mak: string;
  tpk: string;
  tmk: string;
}

export interface PosOptions {
  terminalId: string;
  merchantId?: string;
  keys: PosKeys;
  /** Field 32. */
  acquirerId?: string;
  firstStan?: number;
  now?: () => Date;
}

export interface TxResult {
  op: string;
  code: string;
  processingCode?: string;
  stan: string;
  transmitted: string;
  amountFen?: bigint;
  rrn?: string;
  authCode?: string;
  balanceFen?: bigint;
  medicalFen?: bigint;
  /** The answer's MAC did not verify under the session MAK. */
  macBad?: boolean;
}

export interface BatchTotals {
  debitCount: bigint;
  debitAmount: bigint;
  creditCount: bigint;
  creditAmount: bigint;
}

const stanMax = 999_999;

export class PosTerminal {
  private stanSeq: number;
  private mak: Buffer;
  private tpk: Buffer;
  private readonly tmk: Buffer;
  private readonly now: () => Date;
  /** Approved, not reversed: what the next 0500 reports. */
  private readonly open = new Map<string, { kind: 'debit' | 'credit'; amountFen: bigint }>();

  constructor(
    private readonly client: IsoClient,
    private readonly opts: PosOptions,
  ) {
    this.stanSeq = opts.firstStan ?? 1;
    this.mak = Buffer.from(opts.keys.mak, 'hex');
    this.tpk = Buffer.from(opts.keys.tpk, 'hex');
    this.tmk = Buffer.from(opts.keys.tmk, 'hex');
    this.now = opts.now ?? (() => new Date());
  }

  get terminalId(): string {
    return this.opts.terminalId;
  }

  get totals(): BatchTotals {
    const t: BatchTotals = { debitCount: 0n, debitAmount: 0n, creditCount: 0n, creditAmount: 0n };
    for (const tx of this.open.values()) {
      if (tx.kind === 'debit') {
        t.debitCount++;
        t.debitAmount += tx.amountFen;
      } else {
        t.creditCount++;
        t.creditAmount += tx.amountFen;
      }
    }
    return t;
  }

  nextStan(): string {
    const stan = String(this.stanSeq).padStart(6, '0');
    this.stanSeq = this.stanSeq >= stanMax ? 1 : this.stanSeq + 1;
    return stan;
  }

  /** The fields every request carries: F7, F11, F12, F13, F32, F41, F42, F49. */
  private base(stan: string, transmitted: string): Map<number, FieldValue> {
    const f = new Map<number, FieldValue>([
      [7, transmitted],
      [11, stan],
      [12, transmitted.slice(4)],
      [13, transmitted.slice(0, 4)],
      [41, this.opts.terminalId],
    ]);
    if (this.opts.acquirerId) f.set(32, this.opts.acquirerId);
    if (this.opts.merchantId) f.set(42, merchantField(this.opts.merchantId));
    return f;
  }

  /**
   * Sign-on (001) or key change (101), MACed under the TMK (the host refuses key management without
   * it: 63); installs the MAK and PIN key of field 60 after checking the answer's MAC (also under the
   * TMK) and the keys' KCVs.
   */
  async signOn(networkCode: '001' | '101' = '001'): Promise<TxResult & { keysInstalled: boolean }> {
    const stan = this.nextStan();
    const transmitted = transmissionDateTime(this.now());
    const f = this.base(stan, transmitted);
    f.delete(42);
    f.set(70, networkCode);
    const res = await this.client.request({ mti: '0800', fields: f }, this.tmk);
    const code = fieldText(res, 39) ?? '??';
    let keysInstalled = false;
    const keys = parseSessionKeys(fieldText(res, 60) ?? '');
    const macBad = !this.macOk(res, this.tmk);
    if (code === '00' && keys && !macBad) {
      const mak = decryptKey(Buffer.from(keys.makUnderTmk, 'hex'), this.tmk);
      const tpk = decryptKey(Buffer.from(keys.tpkUnderTmk, 'hex'), this.tmk);
      if (keyCheckValue(mak) === keys.makKcv && keyCheckValue(tpk) === keys.tpkKcv) {
        this.mak = mak;
        this.tpk = tpk;
        keysInstalled = true;
      }
    }
    return { op: networkCode === '001' ? 'signOn' : 'keyChange', code, stan, transmitted, keysInstalled, ...(macBad ? { macBad } : {}) };
  }

  async echo(): Promise<TxResult> {
    const stan = this.nextStan();
    const transmitted = transmissionDateTime(this.now());
    const f = this.base(stan, transmitted);
    f.set(70, '301');
    const res = await this.client.request({ mti: '0800', fields: f }, this.mak);
    return { op: 'echo', code: fieldText(res, 39) ?? '??', stan, transmitted };
  }

  private async financial(op: string, mti: string, f: Map<number, FieldValue>): Promise<TxResult> {
    const res = await this.client.request({ mti, fields: f }, this.mak);
    const result: TxResult = { op, code: fieldText(res, 39) ?? '??', stan: f.get(11) as string, transmitted: f.get(7) as string };
    const pc = f.get(3);
    if (typeof pc === 'string') result.processingCode = pc;
    const amount = fieldText(res, 4);
    if (amount !== undefined) result.amountFen = BigInt(amount);
    const rrn = fieldText(res, 37);
    if (rrn !== undefined) result.rrn = rrn;
    const auth = fieldText(res, 38);
    if (auth !== undefined) result.authCode = auth;
    const balances = fieldText(res, 54);
    if (balances) {
      for (const entry of parseBalances(balances)) {
        if (entry.accountType === '10') result.balanceFen = entry.amountFen;
        if (entry.accountType === '20') result.medicalFen = entry.amountFen;
      }
    }
    if (!this.macOk(res)) result.macBad = true;
    return result;
  }

  private macOk(res: IsoMessage, key: Buffer = this.mak): boolean {
    try {
      const raw = encodeMessage(res);
      return verifyMac(key, macInput(raw), macOf(raw));
    } catch {
      return false;
    }
  }

  private moneyRequest(mti: string, processingCode: string, cardNo: string | undefined, amountFen: bigint | undefined): Map<number, FieldValue> {
    const stan = this.nextStan();
    const f = this.base(stan, transmissionDateTime(this.now()));
    if (cardNo !== undefined) f.set(2, cardNo);
    f.set(3, processingCode);
    if (amountFen !== undefined) f.set(4, amountField(amountFen));
    f.set(22, '071');
    f.set(25, '00');
    f.set(49, '156');
    return f;
  }

  async purchase(cardNo: string, amountFen: bigint, pin?: string): Promise<TxResult> {
    const f = this.moneyRequest('0200', '000000', cardNo, amountFen);
    if (pin) f.set(52, encryptPinBlock(pin, cardNo, this.tpk));
    const r = await this.financial('purchase', '0200', f);
    if (r.code === '00') this.open.set(r.stan + r.transmitted, { kind: 'debit', amountFen });
    return r;
  }

  /** 0220: a purchase made offline, told to the host afterwards. */
  async advice(cardNo: string, amountFen: bigint): Promise<TxResult> {
    const r = await this.financial('advice', '0220', this.moneyRequest('0220', '000000', cardNo, amountFen));
    if (r.code === '00') this.open.set(r.stan + r.transmitted, { kind: 'debit', amountFen });
    return r;
  }

  async topup(cardNo: string, amountFen: bigint): Promise<TxResult> {
    const r = await this.financial('topup', '0200', this.moneyRequest('0200', '210000', cardNo, amountFen));
    if (r.code === '00') this.open.set(r.stan + r.transmitted, { kind: 'credit', amountFen });
    return r;
  }

  /** Refund of an earlier purchase named by its retrieval reference number (F37). */
  async refund(rrn: string, amountFen: bigint, cardNo?: string): Promise<TxResult> {
    const f = this.moneyRequest('0200', '200000', cardNo, amountFen);
    f.set(37, rrn);
    const r = await this.financial('refund', '0200', f);
    if (r.code === '00') this.open.set(r.stan + r.transmitted, { kind: 'credit', amountFen });
    return r;
  }

  async balance(cardNo: string): Promise<TxResult> {
    return this.financial('balance', '0200', this.moneyRequest('0200', '310000', cardNo, undefined));
  }

  /** 0400 (or 0420 advice) of an earlier request, named in F90 by its MTI, STAN and F7. */
  async reverse(original: TxResult, originalMti = '0200', advice = false): Promise<TxResult> {
    const mti = advice ? '0420' : '0400';
    const f = this.moneyRequest(mti, original.processingCode ?? '000000', undefined, original.amountFen);
    f.set(90, formatOriginalData({ mti: originalMti, stan: original.stan, transmitted: original.transmitted, acquirer: this.opts.acquirerId ?? '' }));
    const r = await this.financial(advice ? 'reversalAdvice' : 'reversal', mti, f);
    if (r.code === '00') this.open.delete(original.stan + original.transmitted);
    return r;
  }

  /** 0500 with the open batch's totals; on 00 the batch is closed. */
  async settle(batchNo: string, totals: BatchTotals = this.totals): Promise<TxResult> {
    const stan = this.nextStan();
    const f = this.base(stan, transmissionDateTime(this.now()));
    f.set(49, '156');
    f.set(60, batchNo);
    f.set(74, totals.creditCount.toString());
    f.set(76, totals.debitCount.toString());
    f.set(86, totals.creditAmount.toString());
    f.set(88, totals.debitAmount.toString());
    const r = await this.financial('settle', '0500', f);
    if (r.code === '00') this.open.clear();
    return r;
  }
}
