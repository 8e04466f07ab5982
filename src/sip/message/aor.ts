import { lowerAscii, normalizeNumber } from '../../policy/normalize-number.js';

/**
 * The user and host of an address-of-record as the SIP server reads them: Kamailio 5.6's
 * `parse_uri` followed by the registrar's `extract_aor`, which is what `save("location")` binds and
 * `lookup("location")` finds (issue 7, holes 3 and 5). Checked against the real binary by
 * test/e2e/identity-differential.test.ts.
 *
 * - The user part is everything between the scheme and the first `@`, up to a `:` (a password).
 *   A second `@`, an `[` or `]` in it, or an empty user before the `@` make the URI unreadable
 *   (Kamailio answers 400).
 * - With the URI parameter `user=phone` (value exactly `phone`, the last `user` parameter counts)
 *   the user part is cut at its first `;`: `sip:1001;isub=7@host;user=phone` is 1001. Without it the
 *   `;` stays: `sip:1001;x@host` is the AoR `1001;x`, another account.
 * - `%XX` escapes are decoded (RFC 3261 §19.1.2); an escape that is short, not hex, or decodes to
 *   anything but printable ASCII makes the URI unreadable.
 * - ASCII letters are lower-cased (registrar `case_sensitive` 0, the default): `LOBBY` is `lobby`.
 *   Nothing else is changed: visual separators (`1-001`) and a leading `+` are part of the AoR.
 * - tel URIs (RFC 3966): the number up to the first `;`.
 */

/**
 * The user part of an AoR (a bare URI, the part inside `<>` of a name-addr, or a Request-URI) as
 * the registrar binds it: `''` when the URI has no user part, null when it is unreadable.
 */
export function readAorUser(uri: string): string | null {
  const span = userSpan(uri);
  if (span === null) return null;
  if (span.start === span.end) return '';
  let end = span.end;
  if (span.tel) {
    // A tel URI: the number ends at its first ';' (RFC 3966 §3).
    const semi = uri.indexOf(';', span.start);
    if (semi >= 0 && semi < end) end = semi;
  } else {
    const phone = userParamIsPhone(uri, span.hostStart);
    if (phone === null) return null;
    if (phone) {
      const semi = uri.indexOf(';', span.start);
      if (semi >= 0 && semi < end) end = semi;
    }
  }
  const user = unescapeUser(uri, span.start, end);
  return user === null ? null : normalizeNumber(user);
}

/**
 * The host of a SIP/SIPS AoR as the registrar compares it with `use_domain` on: lower case, IPv6
 * brackets kept, nothing else changed (`127.0.0.1.` is another domain). `''` for a tel URI, null
 * when unreadable.
 */
export function readAorHost(uri: string): string | null {
  const span = userSpan(uri);
  if (span === null) return null;
  if (span.tel) return '';
  let i = span.hostStart;
  const end = span.uriEnd;
  if (uri.charCodeAt(i) === 0x5b) {
    const close = uri.indexOf(']', i);
    if (close < 0 || close >= end) return null;
    i = close + 1;
  } else {
    while (i < end && !isHostEnd(uri.charCodeAt(i))) i++;
  }
  if (i === span.hostStart) return null;
  return lowerAscii(uri.slice(span.hostStart, i));
}

interface UserSpan {
  readonly tel: boolean;
  /** `[start, end)` of the user (before any password); start === end when there is none. */
  readonly start: number;
  readonly end: number;
  readonly hostStart: number;
  /** End of the URI proper: its `?headers` are not part of it. */
  readonly uriEnd: number;
}

function userSpan(text: string): UserSpan | null {
  let uri = 0;
  let uriEnd = text.length;
  // Tolerate surrounding white space, as the name-addr and Request-URI readers leave none anyway.
  while (uri < uriEnd && isWhite(text.charCodeAt(uri))) uri++;
  while (uriEnd > uri && isWhite(text.charCodeAt(uriEnd - 1))) uriEnd--;
  const colon = text.indexOf(':', uri);
  if (colon < 0 || colon >= uriEnd) return null;
  const scheme = lowerAscii(text.slice(uri, colon));
  const tel = scheme === 'tel';
  if (!tel && scheme !== 'sip' && scheme !== 'sips') return null;
  const start = colon + 1;
  const headers = text.indexOf('?', start);
  // '@' ends the user wherever it is, even after a ';' or '?' (Kamailio's "still at user").
  const at = text.indexOf('@', start);
  if (at < 0 || at >= uriEnd) {
    const end = headers < 0 ? uriEnd : headers;
    if (start === end) return null;
    return tel ? { tel, start, end, hostStart: end, uriEnd: end } : { tel, start, end: start, hostStart: start, uriEnd: end };
  }
  // A tel URI has no host; and anything but one '@' is refused by the SIP server.
  if (tel || at === start || text.indexOf('@', at + 1) >= 0) return null;
  let end = at;
  for (let i = start; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x5d) return null;
    if (c === 0x3a && end === at) end = i;
  }
  if (end === start) return null;
  const afterHost = text.indexOf('?', at);
  return { tel, start, end, hostStart: at + 1, uriEnd: afterHost < 0 ? uriEnd : afterHost };
}

/**
 * Whether the last `user` URI parameter after the host is exactly `phone` (RFC 3261 §19.1.1); null
 * when a `user` parameter has no value (read differently by Kamailio, see below). Read
 * as Kamailio's parse_uri does: the name `user` in any case followed at once by `=`, the value
 * compared byte for byte (`user=PHONE` and `user = phone` do not count).
 */
function userParamIsPhone(text: string, hostStart: number): boolean | null {
  let phone = false;
  const q = text.indexOf('?', hostStart);
  const end = q < 0 ? text.length : q;
  let i = text.indexOf(';', hostStart);
  while (i >= 0 && i < end) {
    const next = text.indexOf(';', i + 1);
    const stop = next < 0 || next > end ? end : next;
    if (stop - i > 5 && text.charCodeAt(i + 5) === 0x3d && lowerAscii(text.slice(i + 1, i + 5)) === 'user') {
      // `user=` with no value: Kamailio 5.6 keeps an earlier `user=phone` then (seen in the
      // differential suite: `sip:%67ate;-@h;user=phone;user=` reached gate), unlike any other
      // value, which replaces it. Not readable without guessing: unreadable.
      if (stop - i === 6) return null;
      phone = stop - i === 11 && text.startsWith('phone', i + 6);
    }
    i = next;
  }
  return phone;
}

/** Kamailio's un_escape: `%XX` to printable ASCII (0x20-0x7e); null on anything else. */
function unescapeUser(text: string, start: number, end: number): string | null {
  const pct = text.indexOf('%', start);
  if (pct < 0 || pct >= end) return text.slice(start, end);
  let out = '';
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      out += text[i];
      continue;
    }
    const hi = hexValue(text.charCodeAt(i + 1));
    const lo = hexValue(text.charCodeAt(i + 2));
    if (i + 2 >= end || hi < 0 || lo < 0) return null;
    const value = hi * 16 + lo;
    if (value < 0x20 || value > 0x7e) return null;
    out += String.fromCharCode(value);
    i += 2;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isHostEnd(c: number): boolean {
  return c === 0x3a || c === 0x3b || c === 0x3f || c === 0x20 || c === 0x09 || c === 0x3e;
}

function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
