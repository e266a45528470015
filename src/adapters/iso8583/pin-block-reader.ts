// The PIN-block reader the payment use case verifies PINs with (app/pin.ts PinBlockReader): ISO 9564
// format 0 under the terminal's PIN key (tpk), shared by the HTTP payment call and the ISO gateway.
import type { PinBlockReader } from '../../app/pin.js';
import { PinBlockError, pinFromBlock } from './pinblock.js';

export const format0PinBlocks: PinBlockReader = {
  clearPin(pinBlockHex, cardNo, tpkHex) {
    try {
      return pinFromBlock(Buffer.from(pinBlockHex, 'hex'), cardNo, Buffer.from(tpkHex, 'hex'));
    } catch (error) {
      if (error instanceof PinBlockError) return null;
      throw error;
    }
  },
};
