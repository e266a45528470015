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
