// Every Redis key is built here. A card's keys share the hash tag {card:<cardNo>} so that they live
// on one Redis Cluster slot and one Lua script can touch them all; the per-process pending sets are
// split by slot (on a cluster) so that the gate script's pending mark is on the card's slot too.
import { keySlot, slotTags } from './slots.js';

export class RedisKeys {
  /**
   * @param owner this process's owner id (src/app/ownership.ts): its pending marks are its own.
   * @param cluster one pending set per owner and slot (Redis Cluster) instead of one per owner.
   */
  constructor(
    readonly prefix: string,
    readonly owner = 'solo',
    readonly cluster = false,
  ) {}

  /** Hash: st status, ty type, ex expiry, pu purse, me medical, pd/ps payment day and spent, pf PIN failures. */
  cardState(cardNo: string): string {
    return `${this.prefix}{card:${cardNo}}:s`;
  }

  /** String: the idempotency record of one command on this card. */
  cardOp(cardNo: string, opKind: string, opId: string): string {
    return `${this.prefix}{card:${cardNo}}:op:${opKind}:${opId}`;
  }

  /** Hash: a payment's refundable remainder held by its refunds and reversal (refund-reserve.lua). */
  cardRefunds(cardNo: string, paymentId: string): string {
    return `${this.prefix}{card:${cardNo}}:refunds:${paymentId}`;
  }

  /**
   * String: who came first, a payment or its reversal (payment-race.lua). A reversal names only
   * the payment id, not the card, so this key has its own hash tag (one key per script: Cluster-safe).
   */
  paymentRace(terminalId: string, paymentId: string): string {
    return `${this.prefix}{payment:${terminalId}:${paymentId}}:race`;
  }

  /** String: the lease that makes a citizen's medical settlements run one at a time across processes. */
  citizenMedicalLease(citizenId: string): string {
    return `${this.prefix}{citizen:${citizenId}}:medical-lease`;
  }

  /** String: the card's transit day state (fare engine), JSON with a version. */
  cardFare(cardNo: string): string {
    return `${this.prefix}{card:${cardNo}}:fare`;
  }

  /**
   * Hash: the card's commands in flight (`opKind:opId` → owner id) and `#g`, a generation bumped
   * whenever one ends; a snapshot from PostgreSQL is installed only when none is in flight and the
   * generation did not move while it was read (load-card.lua).
   */
  cardInflight(cardNo: string): string {
    return `${this.prefix}{card:${cardNo}}:if`;
  }

  /**
   * Set of this owner's commands applied in Redis whose ledger commit is not yet confirmed
   * (`cardNo opKind:opId`). On a cluster, one set per slot (the card's), so the gate touches one slot.
   */
  pending(cardNo?: string, owner = this.owner): string {
    if (!this.cluster) return `${this.prefix}pending:${owner}`;
    if (cardNo === undefined) throw new Error('on a Redis Cluster a pending set is per card slot');
    return this.pendingGroup(owner, slotTags()[keySlot(this.cardState(cardNo))]!);
  }

  /** Every pending set an owner may have written (one, or one per cluster slot). */
  pendingSetsOf(owner: string): string[] {
    if (!this.cluster) return [`${this.prefix}pending:${owner}`];
    return slotTags().map((tag) => this.pendingGroup(owner, tag));
  }

  private pendingGroup(owner: string, tag: string): string {
    return `${this.prefix}pending:${owner}:{${tag}}`;
  }

  /** The single pending set of versions before per-owner marks; recovered once if found. */
  legacyPending(): string {
    return `${this.prefix}pending`;
  }

  /** Set of owner ids that have registered (src/app/ownership.ts). */
  owners(): string {
    return `${this.prefix}owners`;
  }

  /** String with a TTL: the owner's lease, renewed by its heartbeat; gone = the owner is dead. */
  ownerLease(owner: string): string {
    return `${this.prefix}owner:${owner}`;
  }

  /** String with a TTL: taken by the one process that recovers a dead owner's marks. */
  ownerRecovery(owner: string): string {
    return `${this.prefix}owner:${owner}:recovering`;
  }

  /** Pub/sub channel: the id of a terminal whose status changed (src/adapters/redis/terminal-events.ts). */
  terminalEvents(): string {
    return `${this.prefix}events:terminal-status`;
  }

  /** Set when the cache holds state built from PostgreSQL; missing after a flush. */
  epoch(): string {
    return `${this.prefix}meta:epoch`;
  }

  hotlistVersion(): string {
    return `${this.prefix}hotlist:version`;
  }

  /** String: a terminal's ISO key changes in the current rate-limit window (rekey-limit.ts). */
  terminalRekeys(terminalId: string): string {
    return `${this.prefix}iso:rekeys:{terminal:${terminalId}}`;
  }

  counter(name: string): string {
    return `${this.prefix}stats:${name}`;
  }

  /** Sorted set: citizen-login attempts from one source address (login-address.lua). */
  loginAddress(address: string): string {
    return `${this.prefix}login:addr:${address}`;
  }

  /** Counter: failed citizen logins across all addresses in one minute (epoch minutes). */
  loginFailureMinute(minute: number): string {
    return `${this.prefix}login:fail:${minute}`;
  }

  /** For SCAN: every card key of this prefix. */
  cardPattern(): string {
    return `${this.prefix}{card:*`;
  }
}
