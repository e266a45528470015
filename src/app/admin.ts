// Back-office use cases: registering operators, merchants, terminals, citizens and cards; card
// status and replacement; the fund's medical allocations; the trial balance.
import { randomBytes } from 'node:crypto';
import type { Authorizer, MoneyOutcome } from './authorizer.js';
import type { Ledger } from './ports.js';
import type { CardGate } from '../adapters/redis/card-gate.js';
import type { Journal } from '../adapters/postgres/journal.js';
import type { CardRow, MerchantRow, OperatorRow, Registry, Upsert } from '../adapters/postgres/registry.js';
import { cardNoFromSerial, isValidCardNo } from '../domain/card-number.js';
import { businessDateOf } from '../domain/business-day.js';
import { Code } from '../domain/codes.js';
import type { TerminalKind } from '../domain/permissions.js';
import type { Clock } from '../platform/clock.js';
import { requestHash } from '../platform/hash.js';
import { KeyedMutex } from '../platform/mutex.js';
import { hashPin, maskIdNumber, newApiKey, sha256, type Secrets } from '../platform/secrets.js';
import type { CardEventSink } from './events.js';

export const cardValidityYears = 5;

export interface TerminalKeys {
  mak: string;
  tpk: string;
  tmk: string;
}

/** The problem title of each status: a caller tells a missing party from a conflict without reading the detail. */
export const adminErrorTitles = { 400: 'bad request', 404: 'not found', 409: 'conflict' } as const;
/** Default codes: 400 a request that cannot be done as sent (30), 404 an unknown party (12, as an unknown path), 409 an id taken with other content (94). */
const adminErrorCodes = { 400: Code.formatError, 404: Code.invalidTransaction, 409: Code.duplicateDifferent } as const;

export class AdminError extends Error {
  readonly code: string;
  readonly title: string;

  constructor(
    readonly status: 404 | 409 | 400,
    message: string,
    code?: string,
    title?: string,
  ) {
    super(message);
    this.name = 'AdminError';
    this.code = code ?? adminErrorCodes[status];
    this.title = title ?? adminErrorTitles[status];
  }
}

/** The routes and stations terminals may be registered at (the fare policies' network). */
export interface PlaceDirectory {
  hasRoute(routeId: string): boolean;
  hasStation(stationId: string): boolean;
}

export interface AdminDeps {
  registry: Registry;
  journal: Journal;
  ledger: Ledger & { drain(): Promise<void> };
  gate: CardGate;
  authorizer: Authorizer;
  secrets: Secrets;
  clock: Clock;
  /** Called when a card joins or leaves the hotlist (lost, blocked, replaced). */
  onCardStatus?: (cardNo: string, status: CardRow['status']) => Promise<void>;
  /** Told of every card issued ('card-issued'). */
  events?: CardEventSink;
}

/** A random double-length 3DES key as 32 hex characters. */
export function newDesKeyHex(): string {
  return randomBytes(16).toString('hex');
}

export class AdminService {
  private readonly perCard = new KeyedMutex();
  /** The transit area's fare network (set by src/system.ts); without it, routes and stations are not checked. */
  places: PlaceDirectory | null = null;

  constructor(private readonly deps: AdminDeps) {}

  async createOperator(op: OperatorRow): Promise<Upsert> {
    return this.deps.registry.upsertOperator(op);
  }

  async createMerchant(m: MerchantRow): Promise<Upsert> {
    return this.deps.registry.upsertMerchant(m);
  }

  async createTerminal(t: {
    terminalId: string;
    kind: TerminalKind;
    operatorId?: string | undefined;
    merchantId?: string | undefined;
    routeId?: string | undefined;
    stationId?: string | undefined;
  }): Promise<{ terminalId: string; apiKey: string } & TerminalKeys> {
    if (t.kind === 'pos' && !t.merchantId) throw new AdminError(400, 'a pos terminal needs merchantId');
    if ((t.kind === 'bus' || t.kind === 'gate' || t.kind === 'taxi') && !t.operatorId) throw new AdminError(400, `a ${t.kind} terminal needs operatorId`);
    if (t.kind === 'bus' && !t.routeId) throw new AdminError(400, 'a bus terminal needs routeId');
    if (t.kind === 'gate' && !t.stationId) throw new AdminError(400, 'a gate terminal needs stationId');
    // A terminal at a place the fare network does not know could never be rated: refused by name.
    if (t.routeId && this.places && !this.places.hasRoute(t.routeId)) throw new AdminError(400, `route ${t.routeId} is not in the fare network`, Code.formatError, 'unknown route');
    if (t.stationId && this.places && !this.places.hasStation(t.stationId)) throw new AdminError(400, `station ${t.stationId} is not in the fare network`, Code.formatError, 'unknown station');
    if (t.operatorId && !(await this.deps.registry.operator(t.operatorId))) throw new AdminError(404, `operator ${t.operatorId} not found`);
    if (t.merchantId && !(await this.deps.registry.merchant(t.merchantId))) throw new AdminError(404, `merchant ${t.merchantId} not found`);
    const keys: TerminalKeys = { mak: newDesKeyHex(), tpk: newDesKeyHex(), tmk: newDesKeyHex() };
    const apiKey = newApiKey();
    const created = await this.deps.registry.insertTerminal(
      {
        terminalId: t.terminalId,
        kind: t.kind,
        operatorId: t.operatorId ?? null,
        merchantId: t.merchantId ?? null,
        routeId: t.routeId ?? null,
        stationId: t.stationId ?? null,
        keysEnc: this.deps.secrets.encrypt(JSON.stringify(keys)),
      },
      sha256(apiKey),
    );
    // Keys are shown once; registering the same id again is a conflict, not a key reset.
    if (!created) throw new AdminError(409, `terminal ${t.terminalId} already exists`);
    return { terminalId: t.terminalId, apiKey, ...keys };
  }

  terminalKeys(keysEnc: Buffer): TerminalKeys {
    return JSON.parse(this.deps.secrets.decrypt(keysEnc).toString('utf8')) as TerminalKeys;
  }

  async createCitizen(c: { name: string; idNumber: string; insured?: boolean | undefined }): Promise<{ citizenId: bigint; created: boolean }> {
    return this.deps.registry.insertCitizen({
      name: c.name,
      idHmac: this.deps.secrets.lookupHmac(c.idNumber),
      idEnc: this.deps.secrets.encrypt(c.idNumber),
      idMasked: maskIdNumber(c.idNumber),
      insured: c.insured ?? false,
    });
  }

  async createCard(c: { citizenId: bigint; cardType: CardRow['cardType']; pin?: string | undefined }): Promise<{ cardNo: string; status: 'active'; expiresOn: string }> {
    if (!(await this.deps.registry.citizen(c.citizenId))) throw new AdminError(404, `citizen ${c.citizenId} not found`);
    const cardNo = cardNoFromSerial(await this.deps.registry.nextCardSerial());
    const expiresOn = this.expiryFromNow();
    const pinHash = c.pin ? await hashPin(c.pin) : null;
    await this.deps.registry.insertCard({ cardNo, citizenId: c.citizenId, cardType: c.cardType, expiresOn, pinHash });
    await this.deps.events?.emit('card-issued', { cardNo });
    return { cardNo, status: 'active', expiresOn };
  }

  private expiryFromNow(): string {
    const now = this.deps.clock.now();
    return new Date(Date.UTC(now.getUTCFullYear() + cardValidityYears, now.getUTCMonth(), now.getUTCDate())).toISOString().slice(0, 10);
  }

  async setCardStatus(cardNo: string, status: CardRow['status']): Promise<void> {
    if (!isValidCardNo(cardNo)) throw new AdminError(404, 'card not found', Code.invalidCard);
    const card = await this.deps.registry.card(cardNo);
    if (!card) throw new AdminError(404, 'card not found', Code.invalidCard);
    if (card.replacedBy && status === 'active') throw new AdminError(409, 'a replaced card cannot be reactivated');
    // PostgreSQL first (the truth), then the cache, so a tap after this answer is declined.
    await this.deps.registry.setCardStatus(cardNo, status);
    await this.deps.gate.setFields(cardNo, { st: status });
    await this.deps.onCardStatus?.(cardNo, status);
  }

  /**
   * Issues a new card for the same citizen and moves the old card's balances to it in one ledger
   * command; the old card is blocked. Idempotent: replacing a replaced card answers its successor.
   */
  async replaceCard(oldCardNo: string): Promise<{ cardNo: string; created: boolean }> {
    return this.perCard.run(oldCardNo, async () => {
      const old = await this.deps.registry.card(oldCardNo);
      if (!old) throw new AdminError(404, 'card not found', Code.invalidCard);
      if (old.replacedBy) {
        await this.moveBalances(oldCardNo, old.replacedBy);
        return { cardNo: old.replacedBy, created: false };
      }
      // A card reported lost stays 'lost' (declined 41, hotlisted as lost); any other is blocked (43).
      const oldStatus = old.status === 'lost' ? 'lost' : 'blocked';
      await this.deps.registry.setCardStatus(oldCardNo, oldStatus);
      await this.deps.gate.setFields(oldCardNo, { st: oldStatus });
      await this.deps.onCardStatus?.(oldCardNo, oldStatus);
      const newCardNo = cardNoFromSerial(await this.deps.registry.nextCardSerial());
      await this.deps.registry.insertReplacement(oldCardNo, {
        cardNo: newCardNo,
        citizenId: old.citizenId,
        cardType: old.cardType,
        expiresOn: this.expiryFromNow(),
        pinHash: old.pinHash,
      });
      await this.moveBalances(oldCardNo, newCardNo);
      return { cardNo: newCardNo, created: true };
    });
  }

  private async moveBalances(oldCardNo: string, newCardNo: string): Promise<void> {
    // The old card is blocked: once the writer has drained, its ledger balance is final.
    await this.deps.ledger.drain();
    const { purse, medical } = await this.deps.registry.balances(oldCardNo);
    const legs = [];
    if (purse > 0n) legs.push({ debit: { kind: 'purse' as const, ownerId: oldCardNo }, credit: { kind: 'purse' as const, ownerId: newCardNo }, amountFen: purse });
    if (purse < 0n) legs.push({ debit: { kind: 'purse' as const, ownerId: newCardNo }, credit: { kind: 'purse' as const, ownerId: oldCardNo }, amountFen: -purse });
    if (medical > 0n) legs.push({ debit: { kind: 'medical' as const, ownerId: oldCardNo }, credit: { kind: 'medical' as const, ownerId: newCardNo }, amountFen: medical });
    if (legs.length > 0) {
      await this.deps.ledger.submit({
        opKind: 'card-replace',
        opId: oldCardNo,
        requestHash: requestHash({ oldCardNo, newCardNo }),
        cardNo: newCardNo,
        terminalId: null,
        businessDate: businessDateOf(this.deps.clock.now()),
        legs,
        detail: { oldCardNo, newCardNo },
      });
    }
    // Both cards reload their state from the ledger on their next use.
    await this.deps.gate.forget(oldCardNo);
    await this.deps.gate.forget(newCardNo);
  }

  async creditMedical(cardNo: string, req: { creditId: string; amount: bigint }): Promise<MoneyOutcome> {
    if (!isValidCardNo(cardNo)) return { kind: 'declined', code: Code.invalidCard };
    if (req.amount <= 0n) return { kind: 'declined', code: Code.invalidAmount };
    return this.deps.authorizer.execute({
      opKind: 'medical-credit',
      opId: req.creditId,
      requestHash: requestHash({ cardNo, amount: req.amount }),
      cardNo,
      terminalId: null,
      businessDate: businessDateOf(this.deps.clock.now()),
      gate: { type: 'credit', purseFen: 0n, medicalFen: req.amount, dailyGiveBackFen: 0n, requireActive: false },
      legs: [{ debit: { kind: 'medical_fund', ownerId: '' }, credit: { kind: 'medical', ownerId: cardNo }, amountFen: req.amount }],
      detail: { amount: req.amount.toString() },
      reply: (ids, _purse, medical) => ({ transactionId: ids[0]!.toString(), medical: medical.toString() }),
    });
  }

  trialBalance() {
    return this.deps.journal.trialBalance();
  }
}
