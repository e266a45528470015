// What the operations use cases need of the stores: the demo data's one-transaction seeding
// (implemented by adapters/postgres/demo-seed.ts).
import type { CardRow } from './registry.js';

/** A demo citizen as stored: the id number only as its lookup HMAC, ciphertext and mask. */
export interface DemoCitizen {
  name: string;
  idHmac: Buffer;
  idEnc: Buffer;
  idMasked: string;
  insured: boolean;
}

export interface DemoCard {
  cardNo: string;
  cardType: CardRow['cardType'];
}

export interface DemoSeedStore {
  /** Whether any card is registered (the demo cards are seeded only into an empty registry). */
  hasCards(): Promise<boolean>;
  /**
   * In one transaction, unless a card exists by then: the citizens, the i-th newly inserted one
   * holding cards[i], the card serial moved past them and each card's purse and medical accounts.
   * Answers how many cards it issued (0 when cards were present).
   */
  seedCards(citizens: DemoCitizen[], cards: DemoCard[], expiresOn: string, pinHash: string): Promise<number>;
}
