// The POS program: connects to the ISO 8583 port, signs on, runs a day script (purchases, a
// reversal, a refund, a top-up, a balance inquiry) and settles its batch with 0500, then prints a
// summary. Keys come from var/demo-terminals.json (written by `npm start`) or from flags.
//   npx tsx terminals/pos/main.ts --terminal POS00001 --script terminals/pos/day.json [--host 127.0.0.1] [--port $ISO_PORT (5800)]
import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cardNoFromSerial } from '../../src/domain/card-number.js';
import { IsoClient } from './client.js';
import { enroll, loadIdentity } from '../lib/enroll.js';
import { PosTerminal, type PosKeys, type TxResult } from './terminal.js';

interface Step {
  op: 'signOn' | 'keyChange' | 'echo' | 'purchase' | 'advice' | 'topup' | 'refund' | 'balance' | 'reverse' | 'settle';
  /** A demo card index (0 = the first demo card) or a card number. */
  card?: number | string;
  amount?: number;
  pin?: string;
  /** Name for this step's result, so that a later reverse / refund can refer to it. */
  as?: string;
  /** The named result a reverse or refund refers to. */
  of?: string;
}

interface Script {
  batch?: string;
  steps: Step[];
}

const usage = `usage: tsx terminals/pos/main.ts --terminal ID --script FILE [--host H] [--port P, default $ISO_PORT or 5800] [--tls-port P] [--state-dir D] [--keys-file F] [--mak HEX --tpk HEX --tmk HEX] [--merchant M] [--batch N] [--stan N] [--state-file F]
       tsx terminals/pos/main.ts enroll --terminal ID [--server http://127.0.0.1:8080] [--admin-token T] [--state-dir var/terminals]
once enrolled (key and certificate in --state-dir) the POS speaks ISO 8583 over mutual TLS on --tls-port (5843)`;

const stanMax = 999_999;

/**
 * The STANs of this run, reserved in the terminal's state file before the first request, as a POS
 * keeps its STAN counter in non-volatile memory: two runs in the same second must never send the
 * same STAN (the host's duplicate key is terminal + STAN + F7, and F7 has whole seconds).
 */
async function reserveStans(file: string, count: number): Promise<number> {
  let first: number;
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { nextStan?: unknown };
    first = typeof saved.nextStan === 'number' && Number.isInteger(saved.nextStan) && saved.nextStan >= 1 && saved.nextStan <= stanMax ? saved.nextStan : randomInt(1, stanMax);
  } catch {
    first = randomInt(1, stanMax); // a new terminal: anywhere in the range
  }
  const next = ((first - 1 + count) % stanMax) + 1;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ nextStan: next })}\n`);
  return first;
}

function cardOf(card: number | string | undefined): string {
  if (card === undefined) throw new Error('step needs "card"');
  return typeof card === 'number' ? cardNoFromSerial(BigInt(card + 1)) : card;
}

async function loadKeys(file: string, terminalId: string): Promise<(PosKeys & { merchantId?: string }) | null> {
  try {
    const list = JSON.parse(await readFile(file, 'utf8')) as (PosKeys & { terminalId: string; merchantId?: string })[];
    return list.find((t) => t.terminalId === terminalId) ?? null;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const enrolling = process.argv[2] === 'enroll';
  const { values } = parseArgs({
    args: process.argv.slice(enrolling ? 3 : 2),
    options: {
      'tls-port': { type: 'string', default: process.env.ISO_TLS_PORT ?? '5843' },
      'state-dir': { type: 'string', default: 'var/terminals' },
      server: { type: 'string', default: `http://127.0.0.1:${process.env.HTTP_PORT ?? '8080'}` },
      'admin-token': { type: 'string', default: process.env.ADMIN_TOKEN ?? 'dev-admin-token' },
      host: { type: 'string', default: '127.0.0.1' },
      // The server's own setting when run beside it (ISO_PORT), else the default port.
      port: { type: 'string', default: process.env.ISO_PORT ?? '5800' },
      terminal: { type: 'string' },
      script: { type: 'string' },
      'keys-file': { type: 'string', default: 'var/demo-terminals.json' },
      mak: { type: 'string' },
      tpk: { type: 'string' },
      tmk: { type: 'string' },
      merchant: { type: 'string' },
      batch: { type: 'string' },
      stan: { type: 'string' },
      'state-file': { type: 'string' },
    },
  });
  if (enrolling && values.terminal) {
    const done = await enroll({ terminalId: values.terminal, server: values.server!.replace(/\/$/, ''), adminToken: values['admin-token']!, stateDir: values['state-dir']! });
    process.stdout.write(`${JSON.stringify({ event: 'enrolled', terminalId: values.terminal, serialNumber: done.serialNumber, notAfter: done.notAfter, certificate: done.files.cert })}\n`);
    return 0;
  }
  if (!values.terminal || !values.script) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const fromFile = await loadKeys(values['keys-file']!, values.terminal);
  const keys: PosKeys | null =
    values.mak && values.tpk && values.tmk ? { mak: values.mak, tpk: values.tpk, tmk: values.tmk } : fromFile ? { mak: fromFile.mak, tpk: fromFile.tpk, tmk: fromFile.tmk } : null;
  if (!keys) {
    process.stderr.write(`no keys for ${values.terminal}: not in ${values['keys-file']} and no --mak/--tpk/--tmk\n`);
    return 2;
  }
  const script = JSON.parse(await readFile(values.script, 'utf8')) as Script;
  // A fresh batch number per run unless given: a rerun is a new batch.
  const nowSeconds = Math.floor(Date.now() / 1000);
  const batch = values.batch ?? script.batch ?? String(nowSeconds % 1_000_000).padStart(6, '0');
  const stateFile = values['state-file'] ?? path.join('var', `pos-${values.terminal}.json`);
  const firstStan = values.stan ? Number(values.stan) : await reserveStans(stateFile, script.steps.length);
  const identity = await loadIdentity(values['state-dir']!, values.terminal);
  const client = identity
    ? await IsoClient.connectTls(values.host!, Number(values['tls-port']), { key: identity.key, cert: identity.cert, ca: identity.ca })
    : await IsoClient.connect(values.host!, Number(values.port));
  const merchantId = values.merchant ?? fromFile?.merchantId;
  const pos = new PosTerminal(client, {
    terminalId: values.terminal,
    ...(merchantId ? { merchantId } : {}),
    keys,
    acquirerId: '12345678',
    firstStan,
  });

  const named = new Map<string, TxResult>();
  const results: TxResult[] = [];
  for (const step of script.steps) {
    let r: TxResult;
    switch (step.op) {
      case 'signOn':
      case 'keyChange':
        r = await pos.signOn(step.op === 'signOn' ? '001' : '101');
        break;
      case 'echo':
        r = await pos.echo();
        break;
      case 'purchase':
        r = await pos.purchase(cardOf(step.card), BigInt(step.amount ?? 0), step.pin);
        break;
      case 'advice':
        r = await pos.advice(cardOf(step.card), BigInt(step.amount ?? 0));
        break;
      case 'topup':
        r = await pos.topup(cardOf(step.card), BigInt(step.amount ?? 0));
        break;
      case 'balance':
        r = await pos.balance(cardOf(step.card));
        break;
      case 'refund': {
        const original = named.get(step.of ?? '');
        if (!original?.rrn) throw new Error(`refund: no approved purchase named "${step.of}"`);
        r = await pos.refund(original.rrn, BigInt(step.amount ?? 0));
        break;
      }
      case 'reverse': {
        const original = named.get(step.of ?? '');
        if (!original) throw new Error(`reverse: no step named "${step.of}"`);
        r = await pos.reverse(original);
        break;
      }
      case 'settle':
        r = await pos.settle(batch);
        break;
      default:
        throw new Error(`unknown step ${(step as Step).op}`);
    }
    if (step.as) named.set(step.as, r);
    results.push(r);
    const money = r.amountFen !== undefined ? ` amount=${r.amountFen}` : '';
    const balance = r.balanceFen !== undefined ? ` purse=${r.balanceFen}` : '';
    const medical = r.medicalFen !== undefined ? ` medical=${r.medicalFen}` : '';
    process.stdout.write(`${r.op.padEnd(10)} stan=${r.stan} code=${r.code}${money}${balance}${medical}${r.rrn ? ` rrn=${r.rrn}` : ''}${r.macBad ? ' MAC-BAD' : ''}\n`);
  }
  client.close();

  const settlement = [...results].reverse().find((r) => r.op === 'settle');
  const summary = {
    terminalId: values.terminal,
    batch,
    requests: results.length,
    approved: results.filter((r) => r.code === '00').length,
    declined: results.filter((r) => r.code !== '00').length,
    macFailures: results.filter((r) => r.macBad).length,
    settlement: settlement?.code ?? null,
    steps: results.map((r) => ({ op: r.op, code: r.code, stan: r.stan, ...(r.amountFen !== undefined ? { amount: Number(r.amountFen) } : {}), ...(r.balanceFen !== undefined ? { purse: Number(r.balanceFen) } : {}), ...(r.medicalFen !== undefined ? { medical: Number(r.medicalFen) } : {}) })),
  };
  process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
  return summary.macFailures === 0 && (settlement === undefined || settlement.code === '00') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`pos: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
