// Redis Cluster hash slots (CRC16/XMODEM of the key's hash tag, mod 16384) and, for every slot, a
// short tag that hashes to it, so that a per-process key can sit on the same slot as a card's keys.
export const clusterSlotsMax = 16384;

const table = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The slot of a key, honouring the first non-empty {hash tag}. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % clusterSlotsMax;
  }
  return crc16(key) % clusterSlotsMax;
}

let tags: string[] | null = null;

/** A tag `s<n>` for every slot (built once, about 150k CRCs: a few milliseconds). */
export function slotTags(): string[] {
  if (tags) return tags;
  const found: (string | undefined)[] = new Array<string | undefined>(clusterSlotsMax);
  let missing = clusterSlotsMax;
  for (let n = 0; missing > 0; n++) {
    const tag = `s${n}`;
    const slot = crc16(tag) % clusterSlotsMax;
    if (found[slot] === undefined) {
      found[slot] = tag;
      missing--;
    }
  }
  tags = found as string[];
  return tags;
}
