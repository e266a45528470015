// Citizen self-service (DESIGN §5, kiosk and app): PIN login with a lock after repeated wrong PINs,
// the citizen's own card, history and loss report (top-ups are orders: topup-orders.ts). Nothing here reveals another
// card's number or the population-registry fields in clear.
import type { AdminService } from './admin.js';
import type { CardQueries, TransactionItem } from './card-queries.js';
import type { MoneyService } from './money.js';
import type { RegistryStore } from './ports/registry.js';
import { isValidCardNo, maskCardNo } from '../domain/card-number.js';
import type { Clock } from '../platform/clock.js';
import { hashPin, verifyPin } from '../platform/secrets.js';

/** Wrong PINs in a row (since the last successful login or lock) that lock the citizen login. */
export const loginTriesMax = 5;
export const loginLockMs = 15 * 60_000;

/** Failed logins from one source address across all cards (PIN spraying), per window. */
export const addressFailuresMax = 20;
export const addressWindowMs = 10 * 60_000;

export type AddressReservation = { kind: 'reserved'; release(): Promise<void> } | { kind: 'limited'; retryAfterSeconds: number };

/** Port: the per-address attempt budget (Redis, shared by every API process). */
export interface AddressLimiter {
  /** Takes one slot before the PIN is checked; a successful login gives it back. */
  reserve(address: string, now: Date): Promise<AddressReservation>;
}

/** Port: failed logins across all addresses, for the fleet-wide alarm. */
export interface LoginFailureLog {
  record(now: Date): Promise<void>;
}

export interface LoginReservation {
  /** This attempt's number in the current run of failures (1 = first since the last success). */
  attempt: number;
  lockedUntil: Date | null;
}

/** Port: where failures and locks are kept (PostgreSQL, shared by every API process). */
export interface LoginGuard {
  /** Counts an attempt before the PIN is checked; a live lock is returned unchanged. */
  reserve(cardNo: string, now: Date): Promise<LoginReservation>;
  succeed(cardNo: string): Promise<void>;
  lock(cardNo: string, until: Date, now: Date): Promise<void>;
}

export type LoginResult =
  | { kind: 'ok'; cardNo: string }
  | { kind: 'invalid-card' }
  | { kind: 'address-limited'; retryAfterSeconds: number }
  | { kind: 'wrong-pin'; triesLeft: number }
  | { kind: 'locked'; until: Date; retryAfterSeconds: number; justLocked: boolean };

export interface CitizenCard {
  cardNo: string;
  last4: string;
  status: string;
  cardType: string;
  expiresOn: string;
  replaced: boolean;
  purse: bigint;
  medical: bigint;
  holder: { name: string; idNumber: string; insured: boolean };
}

export interface CitizenDeps {
  registry: Pick<RegistryStore, 'card' | 'citizen'>;
  cards: CardQueries;
  admin: AdminService;
  money: MoneyService;
  guard: LoginGuard;
  addresses: AddressLimiter;
  failures: LoginFailureLog;
  /** Counts a failed login in this process's metrics (reason: wrong-pin, locked, address-limited). */
  onFailure?: (reason: 'wrong-pin' | 'locked' | 'address-limited') => void;
  clock: Clock;
}

/** `张*`, `王*明`, `D***********1`: first and last character, the rest starred. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1];
}

/**
 * Masks every run of 15 or more digits: card numbers (16) and resident id numbers (17 digits and a
 * check character). Shorter ids (merchant, terminal) stay readable.
 */
export function maskLongNumbers(text: string): string {
  return text.replace(/\d{15,}/g, (digits) => maskCardNo(digits));
}

/** A history item as a citizen sees it: references that carry a card number are masked. */
export function citizenItem(item: TransactionItem): TransactionItem {
  const detail = item.detail ? Object.fromEntries(Object.entries(item.detail).map(([k, v]) => [k, typeof v === 'string' ? maskLongNumbers(v) : v])) : undefined;
  return {
    ...item,
    reference: maskLongNumbers(item.reference),
    ...(item.explanation ? { explanation: item.explanation.map(maskLongNumbers) } : {}),
    ...(detail ? { detail } : {}),
  };
}

function locked(until: Date, now: Date, justLocked: boolean): LoginResult {
  return { kind: 'locked', until, retryAfterSeconds: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)), justLocked };
}

export class CitizenService {
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly deps: CitizenDeps) {}

  async login(cardNo: string, pin: string, address: string): Promise<LoginResult> {
    // The Luhn rule is public: a mistyped number is told at once and does not count as a try.
    if (!isValidCardNo(cardNo)) return { kind: 'invalid-card' };
    const now = this.deps.clock.now();
    // One address trying one PIN on many cards is stopped here, before any card's count moves.
    const slot = await this.deps.addresses.reserve(address, now);
    if (slot.kind === 'limited') {
      this.deps.onFailure?.('address-limited');
      return { kind: 'address-limited', retryAfterSeconds: slot.retryAfterSeconds };
    }
    const result = await this.loginCard(cardNo, pin, now);
    if (result.kind === 'ok') await slot.release();
    else {
      this.deps.onFailure?.(result.kind === 'locked' ? 'locked' : 'wrong-pin');
      await this.deps.failures.record(now);
    }
    return result;
  }

  private async loginCard(cardNo: string, pin: string, now: Date): Promise<LoginResult> {
    const reservation = await this.deps.guard.reserve(cardNo, now);
    if (reservation.lockedUntil && reservation.lockedUntil > now) return locked(reservation.lockedUntil, now, false);
    // More concurrent attempts than tries left: refuse without checking the PIN (the lock, if the
    // earlier ones fail, is set by the attempt that reaches the limit).
    if (reservation.attempt > loginTriesMax) return locked(new Date(now.getTime() + loginLockMs), now, false);
    const card = await this.deps.registry.card(cardNo);
    // Unknown cards and cards without a PIN take the same time and count the same as a wrong PIN,
    // so that the answers do not tell which numbers exist.
    const ok = card?.pinHash ? await verifyPin(pin, card.pinHash) : (await verifyPin(pin, await this.dummy()), false);
    if (ok) {
      await this.deps.guard.succeed(cardNo);
      return { kind: 'ok', cardNo };
    }
    if (reservation.attempt >= loginTriesMax) {
      const until = new Date(now.getTime() + loginLockMs);
      await this.deps.guard.lock(cardNo, until, now);
      return locked(until, now, true);
    }
    return { kind: 'wrong-pin', triesLeft: loginTriesMax - reservation.attempt };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPin(String(Math.random()).slice(2, 8));
    return this.dummyHash;
  }

  async me(cardNo: string): Promise<CitizenCard | null> {
    const card = await this.deps.registry.card(cardNo);
    if (!card) return null;
    const [balance, citizen] = await Promise.all([this.deps.cards.balance(cardNo), this.deps.registry.citizen(card.citizenId)]);
    return {
      cardNo: maskCardNo(cardNo),
      last4: cardNo.slice(-4),
      // The cache may lag a status change by nothing (PostgreSQL is written first); prefer the row.
      status: card.status,
      cardType: card.cardType,
      expiresOn: card.expiresOn,
      replaced: card.replacedBy !== null,
      purse: balance?.purseFen ?? 0n,
      medical: balance?.medicalFen ?? 0n,
      holder: {
        name: citizen ? maskName(citizen.name) : '',
        // Stored masked at registration (first 3 and last 4); the clear number never leaves the registry.
        idNumber: citizen?.idMasked ?? '',
        insured: citizen?.insured ?? false,
      },
    };
  }

  async transactions(cardNo: string, limit: number, cursor: bigint | null): Promise<{ items: TransactionItem[]; nextCursor: string | null }> {
    const page = await this.deps.cards.transactions(cardNo, limit, cursor);
    return { items: page.items.map(citizenItem), nextCursor: page.nextCursor };
  }

  /**
   * Blocks the card at once (PostgreSQL, then the Redis cache, then the hotlist). Idempotent: a card
   * already lost stays lost; a blocked (e.g. replaced) card is already unusable and stays blocked.
   */
  async reportLoss(cardNo: string): Promise<{ status: string; changed: boolean } | null> {
    const card = await this.deps.registry.card(cardNo);
    if (!card) return null;
    if (card.status !== 'active') return { status: card.status, changed: false };
    await this.deps.admin.setCardStatus(cardNo, 'lost');
    return { status: 'lost', changed: true };
  }
}
