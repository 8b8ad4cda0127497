/**
 * Redis Cluster's hash slot of a key, as the cluster computes it (Redis
 * Cluster specification, "Keys distribution model"): CRC16/XMODEM of the
 * key modulo 16384, where a key with a non-empty `{…}` hashes only what is
 * inside its first braces. Computed here, not asked of Redis, so that the
 * partitions' tags (partitions.ts) are the same on every instance and on a
 * single Redis too.
 */

/** Hash slots in a Redis Cluster. */
export const HASH_SLOTS = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC16/XMODEM (polynomial 0x1021, initial 0) of the UTF-8 bytes of `text`. */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8'))
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/** The hash slot of `key`, honouring its hash tag. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    // `{}` is no tag: the whole key is hashed.
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % HASH_SLOTS;
  }
  return crc16(key) % HASH_SLOTS;
}
