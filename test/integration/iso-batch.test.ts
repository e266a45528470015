// ISO 8583 0500 batch totals against the ledger (issue: ISO 8583 gateway): a batch is the
// terminal's transactions since its previous accepted 0500; equal totals → 00, else 95.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { issueCard, retailPos } from '../support/fixtures.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { PosTerminal } from '../../terminals/pos/terminal.js';
import { fieldText } from '../../src/adapters/iso8583/codec.js';

let sys: TestSystem;
let client: IsoClient;

beforeAll(async () => {
  sys = await createTestSystem();
  client = await IsoClient.connect('127.0.0.1', sys.iso.port);
});
afterAll(async () => {
  client?.close();
  await sys?.destroy();
});

async function newTerminal(): Promise<PosTerminal> {
  const t = await retailPos(sys.http);
  return new PosTerminal(client, { terminalId: t.terminalId, merchantId: 'M0000000000001', keys: t, firstStan: 1000 });
}

async function totalsRow(terminalId: string, batchNo: string) {
  const r = await sys.pool.query(
    `SELECT debit_count, debit_amount, credit_count, credit_amount, source FROM terminal_totals WHERE terminal_id = $1 AND batch_no = $2`,
    [terminalId, batchNo],
  );
  return r.rows[0] as Record<string, unknown> | undefined;
}

describe('0500 batch totals', () => {
  it('purchases are debits, refunds and top-ups credits, reversed ones neither: equal → 00, stored in terminal_totals', async () => {
    const pos = await newTerminal();
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    const a = await pos.purchase(cardNo, 1200n);
    await pos.purchase(cardNo, 800n);
    const reversed = await pos.purchase(cardNo, 500n);
    expect((await pos.reverse(reversed)).code).toBe('00');
    await pos.topup(cardNo, 3000n);
    expect((await pos.refund(a.rrn!, 200n)).code).toBe('00');
    // Declined ones are in nobody's totals.
    expect((await pos.purchase(cardNo, 1_000_000n)).code).toBe('13');
    expect(pos.totals).toEqual({ debitCount: 2n, debitAmount: 2000n, creditCount: 2n, creditAmount: 3200n });
    const res = await pos.settle('000001');
    expect(res.code).toBe('00');
    expect(await totalsRow(pos.terminalId, '000001')).toMatchObject({ debit_count: 2, debit_amount: 2000n, credit_count: 2, credit_amount: 3200n, source: 'iso0500' });
  });

  it('totals that differ → 95; corrected → 00; the next batch holds only what came after', async () => {
    const pos = await newTerminal();
    const { cardNo } = await issueCard(sys.http, { balance: 10_000 });
    await pos.purchase(cardNo, 700n);
    await pos.purchase(cardNo, 300n);
    const right = pos.totals;
    expect((await pos.settle('000007', { ...right, debitAmount: right.debitAmount + 1n })).code).toBe('95');
    expect((await pos.settle('000007', { ...right, debitCount: 1n })).code).toBe('95');
    expect((await pos.settle('000007')).code).toBe('00');
    // The same batch again (its answer was lost): still the same transactions → 00.
    expect((await pos.settle('000007', right)).code).toBe('00');
    await pos.purchase(cardNo, 50n);
    expect((await pos.settle('000008', right)).code).toBe('95');
    expect((await pos.settle('000008', { debitCount: 1n, debitAmount: 50n, creditCount: 0n, creditAmount: 0n })).code).toBe('00');
    // An empty batch is zero everywhere.
    expect((await pos.settle('000009', { debitCount: 0n, debitAmount: 0n, creditCount: 0n, creditAmount: 0n })).code).toBe('00');
  });

  it('a 0500 repeated with the same STAN and F7 gets the same answer; a bad batch number → 30', async () => {
    const t = await retailPos(sys.http);
    const mak = Buffer.from(t.mak, 'hex');
    const fields = new Map<number, string>([
      [7, '0101120000'],
      [11, '004242'],
      [41, t.terminalId],
      [60, '000011'],
      [74, '0'],
      [76, '0'],
      [86, '0'],
      [88, '0'],
    ]);
    const first = await client.request({ mti: '0500', fields }, mak);
    expect(first.mti).toBe('0510');
    expect(fieldText(first, 39)).toBe('00');
    expect(fieldText(first, 60)).toBe('000011');
    const again = await client.request({ mti: '0500', fields }, mak);
    expect(again.fields).toEqual(first.fields);
    const bad = new Map(fields);
    bad.set(11, '004243');
    bad.set(60, 'B1');
    expect(fieldText(await client.request({ mti: '0500', fields: bad }, mak), 39)).toBe('30');
  });
});
