import { latin1 } from './latin1.js';

/**
 * The methods the SIP server knows by name, in the upper case RFC 3261 §7.1 writes them. Kamailio
 * matches these case-insensitively (its parse_method), so `register` binds an AoR exactly as
 * `REGISTER` does: the proxy must read them the same way, or a lower-case REGISTER would skip the
 * gate (issue 7, hole 1).
 */
const KNOWN_METHODS = [
  'INVITE',
  'ACK',
  'CANCEL',
  'BYE',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'SUBSCRIBE',
  'NOTIFY',
  'MESSAGE',
  'PRACK',
  'UPDATE',
  'REFER',
  'PUBLISH',
] as const;

/**
 * The method in `buf[start, end)` (a token, already checked) as the SIP server reads it: one of the
 * known methods in upper case whatever case was sent, else the bytes as they are. A known method
 * costs no allocation: the returned string is a constant.
 */
export function readMethod(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  for (const name of KNOWN_METHODS) {
    if (name.length === len && sameIgnoringCase(buf, start, name)) return name;
  }
  return latin1(buf as Buffer, start, end);
}

/** `readMethod` for a method already held as a string (the drachtio adapter). */
export function canonicalMethod(method: string): string {
  for (const name of KNOWN_METHODS) {
    if (name.length === method.length && (name === method || name === upperAscii(method))) return name;
  }
  return method;
}

/** The bytes equal `upper` (A-Z and others), letters compared without case. */
function sameIgnoringCase(buf: Uint8Array, at: number, upper: string): boolean {
  for (let i = 0; i < upper.length; i++) {
    const c = buf[at + i] ?? 0;
    const u = upper.charCodeAt(i);
    if (c !== u && (c < 0x61 || c > 0x7a || c - 0x20 !== u)) return false;
  }
  return true;
}

function upperAscii(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}
