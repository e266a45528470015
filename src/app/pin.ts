// PIN blocks from terminals: ISO 9564 format 0 under the terminal's PIN key (tpk), shared by the
// HTTP payment call and the ISO 8583 gateway.
import { PinBlockError, pinFromBlock } from '../adapters/iso8583/pinblock.js';

/** The clear PIN, or null when the block does not decrypt to a well-formed format-0 block. */
export function pinFromEncryptedBlock(pinBlockHex: string, cardNo: string, tpkHex: string): string | null {
  try {
    return pinFromBlock(Buffer.from(pinBlockHex, 'hex'), cardNo, Buffer.from(tpkHex, 'hex'));
  } catch (error) {
    if (error instanceof PinBlockError) return null;
    throw error;
  }
}

/**
 * The shared PIN state (PostgreSQL, so that every process counts the same tries): a try is
 * reserved before the PIN is verified, so parallel guesses in any number of processes cannot
 * share one count.
 */
export interface PinGuard {
  /** Counts one try; the try's number (1…pinTriesMax), or null while the card's PIN is locked. */
  reserve(cardNo: string, now: Date): Promise<number | null>;
  /** Whether the card's PIN is locked now (no try is counted). */
  locked(cardNo: string, now: Date): Promise<boolean>;
  /** A right PIN: the count starts again. */
  succeed(cardNo: string): Promise<void>;
  /** Notes a wrong PIN from a terminal; true when the terminal is now blocked from PIN transactions. */
  terminalFailed(terminalId: string, cardNo: string, now: Date): Promise<boolean>;
  terminalBlocked(terminalId: string): Promise<boolean>;
  /** Operator actions, audited (who and when). */
  unlockCard(cardNo: string, operator: string, now: Date): Promise<boolean>;
  clearTerminal(terminalId: string, operator: string, now: Date): Promise<boolean>;
}
