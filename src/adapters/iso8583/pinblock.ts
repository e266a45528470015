// ISO 9564 format 0 PIN blocks (field 52): the clear block binds the PIN to the card number, and
// travels encrypted under the terminal's double-length PIN key (3DES ECB).
import { desBlockBytes, desDecrypt, desEncrypt, doubleKeyBytes, KeyError } from './keys.js';

export const pinDigitsMin = 4;
export const pinDigitsMax = 12;
export const pinPanDigitsMin = 13;
export const pinPanDigitsMax = 19;

export type PinBlockReason = 'pin' | 'pan' | 'block-length' | 'format' | 'pin-length' | 'pin-digits' | 'filler';

/** A bad PIN, PAN or block. The message never contains the PIN, the PAN or the block. */
export class PinBlockError extends Error {
  override name = 'PinBlockError';
  readonly code = 'iso_pin_block';

  constructor(readonly reason: PinBlockReason, message: string) {
    super(message);
  }
}

/** Account field: 0000 then the 12 rightmost PAN digits excluding the check digit. */
function panField(pan: string): Buffer {
  if (!/^\d+$/.test(pan) || pan.length < pinPanDigitsMin || pan.length > pinPanDigitsMax) {
    throw new PinBlockError('pan', `PAN must be ${pinPanDigitsMin}-${pinPanDigitsMax} digits`);
  }
  return Buffer.from('0000' + pan.slice(-13, -1), 'hex');
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function requirePinKey(key: Buffer): void {
  if (key.length !== doubleKeyBytes) throw new KeyError('a PIN key is 16 bytes (double length)');
}

/** Clear format 0 block: (0, length, PIN digits, F fill) XOR account field. */
export function clearPinBlock(pin: string, pan: string): Buffer {
  if (!/^\d+$/.test(pin) || pin.length < pinDigitsMin || pin.length > pinDigitsMax) {
    throw new PinBlockError('pin', `PIN must be ${pinDigitsMin}-${pinDigitsMax} digits`);
  }
  const pinField = Buffer.from('0' + pin.length.toString(16) + pin.padEnd(14, 'F'), 'hex');
  return xor(pinField, panField(pan));
}

/** The PIN in a clear format 0 block; any deviation from the format is a PinBlockError. */
export function pinFromClearBlock(block: Buffer, pan: string): string {
  if (block.length !== desBlockBytes) throw new PinBlockError('block-length', `a PIN block is ${desBlockBytes} bytes`);
  const nibbles = xor(block, panField(pan)).toString('hex').toUpperCase();
  if (nibbles[0] !== '0') throw new PinBlockError('format', 'not an ISO 9564 format 0 block');
  const length = parseInt(nibbles[1] ?? '', 16);
  if (length < pinDigitsMin || length > pinDigitsMax) throw new PinBlockError('pin-length', 'PIN length outside 4-12');
  const pin = nibbles.slice(2, 2 + length);
  if (!/^\d+$/.test(pin)) throw new PinBlockError('pin-digits', 'PIN nibbles are not decimal digits');
  if (!/^F*$/.test(nibbles.slice(2 + length))) throw new PinBlockError('filler', 'fill nibbles are not F');
  return pin;
}

/** The field 52 value: the clear block encrypted under the PIN key. */
export function encryptPinBlock(pin: string, pan: string, pinKey: Buffer): Buffer {
  requirePinKey(pinKey);
  return desEncrypt(pinKey, clearPinBlock(pin, pan));
}

/**
 * Decrypts field 52 and returns the PIN. A wrong key or PAN mostly breaks the format (PinBlockError),
 * otherwise it yields a wrong PIN, which the PIN check then refuses.
 */
export function pinFromBlock(encrypted: Buffer, pan: string, pinKey: Buffer): string {
  requirePinKey(pinKey);
  if (encrypted.length !== desBlockBytes) throw new PinBlockError('block-length', `a PIN block is ${desBlockBytes} bytes`);
  return pinFromClearBlock(desDecrypt(pinKey, encrypted), pan);
}
