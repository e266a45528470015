// Every Redis key is built here. A card's keys share the hash tag {card:<cardNo>} so that they live
// on one Redis Cluster slot and one Lua script can touch them all.

export class RedisKeys {
  constructor(readonly prefix: string) {}

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

  /** Set of commands applied in Redis whose ledger commit is not yet confirmed: `cardNo opKey`. */
  pending(): string {
    return `${this.prefix}pending`;
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
