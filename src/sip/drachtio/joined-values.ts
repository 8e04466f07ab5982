import { splitValues } from '../message/split-values.js';

/**
 * drachtio-srf hands a header that appears on several lines as one value, the lines joined with
 * `,` (RFC 3261 §7.3.1 makes that equivalent for list headers). These helpers undo the join where
 * the embedded proxy reads single lines, so that both transports derive the same facts.
 */

/** The first comma-separated element, for headers whose value never holds a comma (Expires, Call-ID). */
export function firstElement(joined: string): string {
  const ranges = splitValues(joined);
  const start = ranges[0];
  const end = ranges[1];
  return start === undefined || end === undefined ? '' : joined.slice(start, end);
}

/** `token LWS` not followed by `=`: the scheme that starts a new credentials value (RFC 3261 §25.1). */
const SCHEME_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+(?!=)[^ \t=]/;

/**
 * The credentials values of joined Authorization or Proxy-Authorization lines (RFC 3261 §20.7,
 * §20.28): each starts with its scheme (`Digest username=...`), while the commas inside one value
 * separate `name=value` parameters. Quoted strings may hold commas; splitValues keeps them whole.
 */
export function splitCredentials(joined: string): string[] {
  const out: string[] = [];
  const ranges = splitValues(joined);
  for (let r = 0; r < ranges.length; r += 2) {
    const piece = joined.slice(ranges[r], ranges[r + 1]);
    const last = out.length - 1;
    if (last < 0 || SCHEME_START.test(piece)) out.push(piece);
    else out[last] = `${out[last]}, ${piece}`;
  }
  return out;
}
