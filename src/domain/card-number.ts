// Card numbers: 16 digits, the last a Luhn check digit; masking for logs and answers.

export const cardNoLength = 16;
export const cardNoBin = '62009';

export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  // Double every second digit counting from the right of the payload (the check digit's neighbour first).
  for (let i = 0; i < payload.length; i++) {
    let digit = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

export function isLuhnValid(cardNo: string): boolean {
  if (!/^\d{2,19}$/.test(cardNo)) return false;
  return luhnCheckDigit(cardNo.slice(0, -1)) === cardNo.charCodeAt(cardNo.length - 1) - 48;
}

export function isValidCardNo(cardNo: string): boolean {
  return cardNo.length === cardNoLength && isLuhnValid(cardNo);
}

/** Builds a card number from a serial: BIN + zero-padded serial + check digit. */
export function cardNoFromSerial(serial: bigint): string {
  const payload = cardNoBin + serial.toString().padStart(cardNoLength - 1 - cardNoBin.length, '0');
  if (payload.length !== cardNoLength - 1) throw new RangeError('card serial out of range');
  return payload + String(luhnCheckDigit(payload));
}

/** `6200********1234`: first four and last four digits. Anything not a plausible PAN is fully masked. */
export function maskCardNo(cardNo: string | undefined | null): string {
  if (!cardNo) return '';
  if (cardNo.length < 10) return '*'.repeat(cardNo.length);
  return cardNo.slice(0, 4) + '*'.repeat(cardNo.length - 8) + cardNo.slice(-4);
}
