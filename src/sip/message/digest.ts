import { isSpace } from './split-values.js';

/** Credentials that the sidecar and the SIP server could read differently: refused, never guessed. */
export const AMBIGUOUS: unique symbol = Symbol('ambiguous credentials');

/**
 * The user that the SIP server's digest authentication reads from one Authorization or
 * Proxy-Authorization value (RFC 3261 §22.4, RFC 2617 §3.2.2): Kamailio's `$au`, the `username`
 * without an `@domain` and without a `scheme:` prefix. Null when the scheme is not Digest or the
 * credentials carry no username. AMBIGUOUS when the two readers could disagree (issue 7, hole 4):
 *
 * - `username` given twice (Kamailio takes the last, a naive reader the first);
 * - a backslash inside a quoted value (Kamailio has no quoted-pairs: `"a\"b"` ends at the second
 *   quote), or a quoted value without its closing quote;
 * - a parameter without `=`, an empty token, or anything but white space between a value and the
 *   next comma (Kamailio skips such bytes up to the next `=` or `,`, hiding or revealing a
 *   parameter).
 *
 * Nothing else is read: the `response` must never reach a log.
 */
export function digestUser(value: string): string | null | typeof AMBIGUOUS {
  const end = value.length;
  let i = 0;
  while (i < end && isSpace(value.charCodeAt(i))) i++;
  // Kamailio: "Digest" in any case, then one of SP, HT, CR, LF or ','.
  if (end - i < 7 || value.slice(i, i + 6).toLowerCase() !== 'digest') return null;
  const after = value.charCodeAt(i + 6);
  if (!isSpace(after) && after !== 0x2c) return null;
  i += 7;
  let username: string | null = null;
  for (;;) {
    while (i < end && isSpace(value.charCodeAt(i))) i++;
    if (i >= end) break;
    const nameStart = i;
    while (i < end && value.charCodeAt(i) !== 0x3d && value.charCodeAt(i) !== 0x2c) i++;
    if (i >= end || value.charCodeAt(i) !== 0x3d) return AMBIGUOUS;
    const name = value.slice(nameStart, i).trim().toLowerCase();
    i++;
    while (i < end && isSpace(value.charCodeAt(i))) i++;
    let text: string;
    if (value.charCodeAt(i) === 0x22) {
      const close = value.indexOf('"', i + 1);
      if (close < 0) return AMBIGUOUS;
      text = value.slice(i + 1, close);
      if (text.includes('\\')) return AMBIGUOUS;
      i = close + 1;
    } else {
      const start = i;
      while (i < end && !isSpace(value.charCodeAt(i)) && value.charCodeAt(i) !== 0x2c) i++;
      if (i === start) return AMBIGUOUS;
      text = value.slice(start, i);
    }
    while (i < end && isSpace(value.charCodeAt(i))) i++;
    if (i < end && value.charCodeAt(i) !== 0x2c) return AMBIGUOUS;
    i++;
    if (name === 'username') {
      if (username !== null) return AMBIGUOUS;
      username = text;
    }
  }
  return username === null ? null : authUser(username);
}

/** Kamailio's parse_username: `user@domain` gives `user`, and `sip:user` gives `user`. */
function authUser(whole: string): string {
  if (whole.length <= 2) return whole;
  const at = whole.indexOf('@');
  const user = at < 0 ? whole : whole.slice(0, at);
  const colon = user.indexOf(':');
  return colon < 0 ? user : user.slice(colon + 1);
}
