import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  clearPinBlock,
  decodeMessage,
  decryptKey,
  desDecrypt,
  desEncrypt,
  describeMessage,
  describeRaw,
  encodeMessageWithMac,
  encryptKey,
  encryptPinBlock,
  generateKey,
  hasOddParity,
  keyCheckValue,
  KeyError,
  keyFromHex,
  macInput,
  macOf,
  PinBlockError,
  pinFromBlock,
  pinFromClearBlock,
  retailMac,
  verifyMac,
  withOddParity,
} from '../../src/adapters/iso8583/index.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('single DES through des-ede3 with K‖K‖K', () => {
  it('matches published single-DES vectors', () => {
    // FIPS PUB 81, Appendix B (ECB example): key 0123456789ABCDEF, "Now is t" → 3FA40E8A984D4815.
    expect(desEncrypt(h('0123456789ABCDEF'), Buffer.from('Now is t')).toString('hex').toUpperCase()).toBe('3FA40E8A984D4815');
    // J. Orlin Grabbe, "The DES Algorithm Illustrated": key 133457799BBCDFF1, 0123456789ABCDEF → 85E813540F0AB405.
    expect(desEncrypt(h('133457799BBCDFF1'), h('0123456789ABCDEF')).toString('hex').toUpperCase()).toBe('85E813540F0AB405');
    expect(desDecrypt(h('133457799BBCDFF1'), h('85E813540F0AB405')).toString('hex').toUpperCase()).toBe('0123456789ABCDEF');
  });

  it('matches the NIST SP 800-67 Rev. 1 TDEA example (three keys)', () => {
    // SP 800-67 Rev. 1, Appendix B: K1 0123456789ABCDEF, K2 23456789ABCDEF01, K3 456789ABCDEF0123.
    const key = h('0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123');
    expect(desEncrypt(key, Buffer.from('The qufck brown fox jump')).toString('hex').toUpperCase()).toBe(
      'A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900',
    );
  });

  it('treats a double-length key as K1‖K2‖K1', () => {
    const k1 = h('0123456789ABCDEF');
    const k2 = h('23456789ABCDEF01');
    const block = h('6BC1BEE22E409F96');
    const composed = desEncrypt(k1, desDecrypt(k2, desEncrypt(k1, block)));
    expect(desEncrypt(Buffer.concat([k1, k2]), block).equals(composed)).toBe(true);
    // Two-key TDEA value quoted by the sexybug/operation_mode_interface 3des_2key_test.c test.
    expect(composed.toString('hex').toUpperCase()).toBe('06EDE3D82884090A');
  });
});

describe('ANSI X9.19 retail MAC', () => {
  // ISO/IEC 9797-1:2011 Annex B.4 (MAC algorithm 3, padding method 1), as checked by
  // openemv/crypto test/crypto_tdes2_retail_mac_test.c, which quotes the leading 4 bytes; the full
  // first value A1C72E74EA3FA9B6 is the one commonly cited for the 24-byte message.
  const mak = h('0123456789ABCDEFFEDCBA9876543210');

  it('matches the published vector over aligned data (no padding block added)', () => {
    const mac = retailMac(mak, Buffer.from('Now is the time for all '));
    expect(mac.toString('hex').toUpperCase()).toBe('A1C72E74EA3FA9B6');
  });

  it('matches the published vector over zero-padded data', () => {
    const mac = retailMac(mak, Buffer.from('Now is the time for it'));
    expect(mac.subarray(0, 4).toString('hex').toUpperCase()).toBe('2E2B1428');
    // Zero padding is implicit: the same data padded by hand gives the same MAC.
    expect(retailMac(mak, Buffer.concat([Buffer.from('Now is the time for it'), Buffer.alloc(2)])).equals(mac)).toBe(true);
  });

  it('verifies in constant time and rejects any change', () => {
    const data = Buffer.from('0200 some message bytes');
    const mac = retailMac(mak, data);
    expect(verifyMac(mak, data, mac)).toBe(true);
    expect(verifyMac(mak, Buffer.from('0200 some message bytez'), mac)).toBe(false);
    expect(verifyMac(mak, data, mac.subarray(0, 4))).toBe(false);
    const flipped = Buffer.from(mac);
    flipped[7] = (flipped[7] ?? 0) ^ 1;
    expect(verifyMac(mak, data, flipped)).toBe(false);
  });

  it('signs and verifies a whole ISO message through macInput', () => {
    const wire = encodeMessageWithMac(
      { mti: '0200', fields: new Map([[2, '6200912345671234'], [3, '000000'], [4, '000000000100'], [11, '000001']]) },
      (input) => retailMac(mak, input),
    );
    expect(verifyMac(mak, macInput(wire), macOf(wire))).toBe(true);
    const tampered = Buffer.from(wire);
    tampered[20] = 0x39; // a digit of the amount or PAN
    expect(verifyMac(mak, macInput(tampered), macOf(tampered))).toBe(false);
    expect(decodeMessage(wire).fields.has(64)).toBe(true);
  });

  it('refuses a key that is not double length', () => {
    expect(() => retailMac(h('0123456789ABCDEF'), Buffer.from('x'))).toThrow(KeyError);
  });
});

describe('ISO 9564 format 0 PIN block', () => {
  it('builds the published clear blocks', () => {
    // EFTlab "Complete list of PIN blocks" (and ID TECH's copy): PAN 43219876543210987, PIN 1234 → 0412AC89ABCDEF67.
    expect(clearPinBlock('1234', '43219876543210987').toString('hex').toUpperCase()).toBe('0412AC89ABCDEF67');
    // knovichikhin/psec pinblock.py doctest: PIN 1234, PAN 5544332211009966 → 041277CDDEEFF669.
    expect(clearPinBlock('1234', '5544332211009966').toString('hex').toUpperCase()).toBe('041277CDDEEFF669');
    expect(pinFromClearBlock(h('0412AC89ABCDEF67'), '43219876543210987')).toBe('1234');
  });

  it('encrypts under K1‖K2‖K1 and decrypts back to the PIN', () => {
    const pinKey = h('0123456789ABCDEFFEDCBA9876543210');
    const pan = '43219876543210987';
    const encrypted = encryptPinBlock('1234', pan, pinKey);
    const left = pinKey.subarray(0, 8);
    const right = pinKey.subarray(8);
    const byHand = desEncrypt(left, desDecrypt(right, desEncrypt(left, h('0412AC89ABCDEF67'))));
    expect(encrypted.equals(byHand)).toBe(true);
    expect(pinFromBlock(encrypted, pan, pinKey)).toBe('1234');
  });

  it('round-trips any PIN and PAN', () => {
    const pinKey = generateKey();
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 4, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 13, maxLength: 19 }),
        (pin, pan) => pinFromBlock(encryptPinBlock(pin, pan, pinKey), pan, pinKey) === pin,
      ),
      { numRuns: 500 },
    );
  });

  it('rejects malformed blocks with a typed error that never shows the PIN', () => {
    const pan = '43219876543210987';
    const reasonOf = (block: string) => {
      try {
        pinFromClearBlock(h(block), pan);
      } catch (error) {
        expect(error).toBeInstanceOf(PinBlockError);
        expect((error as Error).message).not.toContain('1234');
        return (error as PinBlockError).reason;
      }
      return 'ok';
    };
    const clear = clearPinBlock('1234', pan);
    const tweak = (i: number, x: number) => {
      const b = Buffer.from(clear);
      b[i] = (b[i] ?? 0) ^ x;
      return b.toString('hex');
    };
    expect(reasonOf(tweak(0, 0x10))).toBe('format'); // control nibble 1
    expect(reasonOf(tweak(0, 0x04))).toBe('pin-length'); // length 0
    expect(reasonOf(tweak(0, 0x09))).toBe('pin-length'); // length 13
    expect(reasonOf(tweak(0, 0x01))).toBe('pin-digits'); // length 5: the first fill nibble becomes a "digit"
    expect(reasonOf(tweak(1, 0x0f))).toBe('pin-digits'); // digit 2 → 0xD
    expect(reasonOf(tweak(7, 0x01))).toBe('filler');
    expect(() => pinFromClearBlock(Buffer.alloc(7), pan)).toThrow(PinBlockError);
    expect(() => clearPinBlock('123', pan)).toThrow(PinBlockError);
    expect(() => clearPinBlock('1234', '123456789012')).toThrow(PinBlockError);
    expect(() => encryptPinBlock('1234', pan, h('0123456789ABCDEF'))).toThrow(KeyError);
  });
});

describe('keys', () => {
  it('computes the check value of the well-known test key', () => {
    // 0123456789ABCDEFFEDCBA9876543210 encrypts zeros to 08D7B4FB629D0885 (its KCV, 08D7B4, is
    // printed by payment HSM and terminal SDK examples for this test key).
    expect(desEncrypt(h('0123456789ABCDEFFEDCBA9876543210'), Buffer.alloc(8)).toString('hex').toUpperCase()).toBe('08D7B4FB629D0885');
    expect(keyCheckValue(h('0123456789ABCDEFFEDCBA9876543210'))).toBe('08D7B4');
  });

  it('generates double-length keys with odd parity and distinct halves', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateKey();
      expect(key).toHaveLength(16);
      expect(hasOddParity(key)).toBe(true);
      expect(key.subarray(0, 8).equals(key.subarray(8))).toBe(false);
    }
    expect(withOddParity(h('0000')).toString('hex')).toBe('0101');
    expect(withOddParity(h('0123456789ABCDEF')).toString('hex').toUpperCase()).toBe('0123456789ABCDEF');
  });

  it('encrypts a key under a KEK and back; the KCV survives the trip', () => {
    const kek = generateKey();
    const key = generateKey();
    const wrapped = encryptKey(key, kek);
    expect(wrapped.equals(key)).toBe(false);
    const unwrapped = decryptKey(wrapped, kek);
    expect(unwrapped.equals(key)).toBe(true);
    expect(keyCheckValue(unwrapped)).toBe(keyCheckValue(key));
    expect(() => encryptKey(key, h('0123456789ABCDEF'))).toThrow(KeyError);
  });

  it('parses hex keys without echoing bad input', () => {
    expect(keyFromHex('0123456789abcdeffedcba9876543210')).toHaveLength(16);
    expect(() => keyFromHex('secret-not-hex')).toThrow(/16, 32 or 48 hex digits$/);
  });
});

describe('masking for logs', () => {
  it('masks the PAN and hides PIN block, MACs, track 2 and unknown fields', () => {
    const description = describeMessage({
      mti: '0200',
      fields: new Map<number, string | Buffer>([
        [2, '6200912345671234'],
        [4, '000000000100'],
        [35, '6200912345671234=2512101'],
        [52, h('0102030405060708')],
        [64, h('0102030405060708')],
        [99, 'whatever'],
        [128, h('0102030405060708')],
      ]),
    });
    expect(description).toEqual({
      mti: '0200',
      fields: {
        '2': '6200********1234',
        '4': '000000000100',
        '35': '6200********1234=***',
        '52': '***',
        '64': '***',
        '99': '***',
        '128': '***',
      },
    });
    expect(JSON.stringify(description)).not.toContain('6200912345671234');
  });

  it('describes undecodable bytes by size and MTI only', () => {
    expect(describeRaw(Buffer.from('0200garbage-6200912345671234'))).toEqual({ bytes: 28, mti: '0200' });
    expect(describeRaw(Buffer.from('xx'))).toEqual({ bytes: 2 });
  });
});
