// Start-up data: the fare policy file's operators and merchants (always), and the demo data (unless
// SEED=0): 1000 cards with balances and a set of demo terminals whose keys are written to
// var/demo-terminals.json for the terminal programs and the load runner.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdminService } from './admin.js';
import type { Ledger } from './ports.js';
import type { RegistryStore } from './ports/registry.js';
import type { DemoCard, DemoCitizen, DemoSeedStore } from './ports/ops.js';
import { cardNoFromSerial } from '../domain/card-number.js';
import { businessDateOf } from '../domain/business-day.js';
import { hashPin, maskIdNumber, sha256, type Secrets } from '../platform/secrets.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';

export interface PolicyFile {
  version: string;
  operators: { operatorId: string; name: string; mode: 'bus' | 'metro' | 'taxi'; commissionRate: string }[];
  merchants: { merchantId: string; name: string; category: 'retail' | 'medical'; mcc: string; commissionRate: string }[];
  payments: unknown;
  demoCards?: { count: number };
  [section: string]: unknown;
}

export async function readPolicyFile(file: string): Promise<PolicyFile> {
  const json = JSON.parse(await readFile(file, 'utf8')) as PolicyFile;
  if (!Array.isArray(json.operators) || !Array.isArray(json.merchants)) throw new Error(`${file}: operators and merchants must be arrays`);
  return json;
}

export async function loadParties(policy: PolicyFile, admin: AdminService, log: Logger): Promise<void> {
  for (const op of policy.operators) {
    const r = await admin.createOperator(op);
    if (r === 'different') log.warn({ operatorId: op.operatorId }, 'operator differs from the policy file; kept as registered');
  }
  for (const m of policy.merchants) {
    const r = await admin.createMerchant(m);
    if (r === 'different') log.warn({ merchantId: m.merchantId }, 'merchant differs from the policy file; kept as registered');
  }
}

export const demoPin = '123456';
export const demoPurseFen = 10_000n;
export const demoMedicalFen = 50_000n;
export const demoCardTypes = ['adult', 'adult', 'adult', 'adult', 'adult', 'adult', 'student', 'senior', 'disabled', 'adult'] as const;

export interface DemoTerminal {
  terminalId: string;
  kind: string;
  apiKey: string;
  mak: string;
  tpk: string;
  tmk: string;
  operatorId?: string;
  merchantId?: string;
  routeId?: string;
  stationId?: string;
}

/** Demo card numbers are the first serials, so they are known without a lookup. */
export function demoCardNo(index: number): string {
  return cardNoFromSerial(BigInt(index + 1));
}

export interface SeedDeps {
  /** The demo cards' one-transaction seeding. */
  store: DemoSeedStore;
  registry: RegistryStore;
  admin: AdminService;
  ledger: Ledger;
  secrets: Secrets;
  clock: Clock;
  log: Logger;
  count: number;
  terminalsFile: string;
}

export async function seedDemo(deps: SeedDeps): Promise<void> {
  const { count } = deps;
  if (!(await deps.store.hasCards())) {
    // One PIN hash for every demo card (the demo PIN is public anyway); real cards get their own salt.
    const pinHash = await hashPin(demoPin);
    const citizens: DemoCitizen[] = [];
    const cards: DemoCard[] = [];
    for (let i = 0; i < count; i++) {
      const idNumber = `41010019900101${String(i).padStart(4, '0')}`;
      citizens.push({
        name: `Demo Citizen ${i + 1}`,
        idHmac: deps.secrets.lookupHmac(idNumber),
        idEnc: deps.secrets.encrypt(idNumber),
        idMasked: maskIdNumber(idNumber),
        insured: i % 4 !== 3,
      });
      cards.push({ cardNo: demoCardNo(i), cardType: demoCardTypes[i % demoCardTypes.length]! });
    }
    const expiresOn = `${deps.clock.now().getUTCFullYear() + 5}-12-31`;
    await deps.store.seedCards(citizens, cards, expiresOn, pinHash);
  }
  // Opening balances through the ledger (idempotent by card), so the books stay balanced.
  const businessDate = businessDateOf(deps.clock.now());
  const commits: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const cardNo = demoCardNo(i);
    commits.push(
      deps.ledger.submit({
        opKind: 'topup',
        opId: `seed-${cardNo}`,
        requestHash: requestHash({ seed: cardNo }),
        cardNo,
        businessDate,
        legs: [{ debit: { kind: 'clearing', ownerId: 'counter' }, credit: { kind: 'purse', ownerId: cardNo }, amountFen: demoPurseFen }],
        detail: { channel: 'counter', seed: true },
      }),
      deps.ledger.submit({
        opKind: 'medical-credit',
        opId: `seed-${cardNo}`,
        requestHash: requestHash({ seedMedical: cardNo }),
        cardNo,
        businessDate,
        legs: [{ debit: { kind: 'medical_fund', ownerId: '' }, credit: { kind: 'medical', ownerId: cardNo }, amountFen: demoMedicalFen }],
        detail: { seed: true },
      }),
    );
  }
  await Promise.all(commits);
  await seedTerminals(deps);
  deps.log.info({ cards: count }, 'demo data ready');
}

const demoTerminalSpecs = [
  { terminalId: 'BUS00001', kind: 'bus', operatorId: 'ZZBUS', routeId: 'B2' },
  { terminalId: 'BUS00002', kind: 'bus', operatorId: 'ZZBUS', routeId: 'B906' },
  { terminalId: 'GATE0101', kind: 'gate', operatorId: 'ZZMETRO', stationId: 'L1-01' },
  { terminalId: 'GATE0111', kind: 'gate', operatorId: 'ZZMETRO', stationId: 'ZJS' },
  { terminalId: 'GATE0215', kind: 'gate', operatorId: 'ZZMETRO', stationId: 'L2-15' },
  { terminalId: 'TAXI0001', kind: 'taxi', operatorId: 'ZZTAXI' },
  { terminalId: 'POS00001', kind: 'pos', merchantId: 'M0000000000001' },
  { terminalId: 'POS00002', kind: 'pos', merchantId: 'M0000000000002' },
  { terminalId: 'HOSP0001', kind: 'pos', merchantId: 'M0000000000101' },
  { terminalId: 'PHAR0001', kind: 'pos', merchantId: 'M0000000000102' },
  { terminalId: 'KIOSK001', kind: 'kiosk' },
] as const;

async function seedTerminals(deps: { registry: RegistryStore; admin: AdminService; terminalsFile: string; log: Logger }): Promise<void> {
  let known: DemoTerminal[];
  try {
    known = JSON.parse(await readFile(deps.terminalsFile, 'utf8')) as DemoTerminal[];
  } catch {
    known = [];
  }
  // The database is the truth: an entry whose key does not open its terminal there (a file left
  // from another database) is dropped, its terminal seeded anew below and the file rewritten.
  const verified: DemoTerminal[] = [];
  for (const t of known) {
    const row = typeof t.apiKey === 'string' ? await deps.registry.terminalByKeyHash(sha256(t.apiKey)) : null;
    if (row?.terminalId === t.terminalId) verified.push(t);
  }
  let changed = verified.length !== known.length;
  known = verified;
  for (const spec of demoTerminalSpecs) {
    if (known.some((t) => t.terminalId === spec.terminalId)) continue;
    if (await deps.registry.terminal(spec.terminalId)) {
      deps.log.warn({ terminalId: spec.terminalId }, 'demo terminal exists but its keys are not in the terminals file; skipped');
      continue;
    }
    const created = await deps.admin.createTerminal(spec as Parameters<AdminService['createTerminal']>[0]);
    known.push({ ...spec, ...created });
    changed = true;
  }
  if (changed) {
    await mkdir(path.dirname(deps.terminalsFile), { recursive: true });
    await writeFile(deps.terminalsFile, JSON.stringify(known, null, 2), { mode: 0o600 });
  }
}
