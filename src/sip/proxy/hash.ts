/**
 * A fast non-cryptographic 64-bit hash of a string, as 16 hex digits: two 32-bit multiplicative
 * lanes with the murmur3 finaliser. Used where RFC 3261 asks for values that are equal for equal
 * inputs (stateless branch ids, §16.11; local To tags) and unlikely to collide otherwise.
 */
export function hashHex(input: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ input.length;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  h1 = fmix(h1 ^ Math.imul(h2, 0x27d4eb2d));
  h2 = fmix(h2 ^ h1);
  return hex8(h1) + hex8(h2);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Eight hex digits; a table per byte is several times faster than toString(16).padStart. */
function hex8(h: number): string {
  return (BYTE_HEX[h >>> 24] ?? '') + (BYTE_HEX[(h >>> 16) & 255] ?? '') + (BYTE_HEX[(h >>> 8) & 255] ?? '') + (BYTE_HEX[h & 255] ?? '');
}
