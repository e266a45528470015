// PIN checks of terminal payments: the shared try count (PinGuard) and the verification of an
// encrypted PIN block against the card's stored PIN hash. The block's format belongs to the
// terminal protocol; it reaches the use case through PinBlockReader (adapters/iso8583/pin-block-reader.ts).

/** Verifies a terminal's encrypted PIN block against the card's stored PIN hash. */
export type PinCheck = (input: { terminalId: string; cardNo: string; pinBlockHex: string; pinHash: string }) => Promise<boolean>;

/** Port: reads the clear PIN out of a terminal's encrypted PIN block. */
export interface PinBlockReader {
  /** The clear PIN, or null when the block does not decrypt (under the terminal's PIN key) to a well-formed block. */
  clearPin(pinBlockHex: string, cardNo: string, tpkHex: string): string | null;
}

export interface PinCheckDeps {
  reader: PinBlockReader;
  /** The terminal's PIN key (hex), or null when the terminal is unknown. */
  terminalPinKey(terminalId: string): Promise<string | null>;
  /** Whether the clear PIN matches the stored hash (platform/secrets.ts verifyPin). */
  verify(pin: string, pinHash: string): Promise<boolean>;
}

/** The PIN check of payments above noPinMax: decrypt the block under the terminal's key, then verify. */
export function pinCheckOf(deps: PinCheckDeps): PinCheck {
  return async ({ terminalId, cardNo, pinBlockHex, pinHash }) => {
    const tpk = await deps.terminalPinKey(terminalId);
    if (tpk === null) return false;
    const pin = deps.reader.clearPin(pinBlockHex, cardNo, tpk);
    return pin !== null && (await deps.verify(pin, pinHash));
  };
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
