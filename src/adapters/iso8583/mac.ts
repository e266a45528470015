// ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3, padding method 1) over a message's MAC input,
// under a terminal's double-length MAK.
import { timingSafeEqual } from 'node:crypto';
import { desBlockBytes, desCbcEncrypt, desDecrypt, desEncrypt, desKeyBytes, doubleKeyBytes, KeyError } from './keys.js';

export const retailMacBytes = 8;

/** Zero bytes up to a multiple of 8; none when already aligned (padding method 1). Empty data is one zero block. */
function zeroPadded(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / desBlockBytes));
  if (blocks * desBlockBytes === data.length) return data;
  const out = Buffer.alloc(blocks * desBlockBytes);
  data.copy(out);
  return out;
}

/**
 * Single-DES CBC-MAC with the left key half; the last block is then decrypted with the right half
 * and encrypted again with the left, which gives 112-bit strength at the final step.
 */
export function retailMac(mak: Buffer, data: Buffer): Buffer {
  if (mak.length !== doubleKeyBytes) throw new KeyError('a MAC key (MAK) is 16 bytes');
  const left = mak.subarray(0, desKeyBytes);
  const right = mak.subarray(desKeyBytes);
  const chain = desCbcEncrypt(left, zeroPadded(data));
  const last = chain.subarray(chain.length - desBlockBytes);
  return desEncrypt(left, desDecrypt(right, last));
}

/** Constant-time check of a received MAC; a MAC of the wrong length is simply wrong. */
export function verifyMac(mak: Buffer, data: Buffer, mac: Buffer): boolean {
  const expected = retailMac(mak, data);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
