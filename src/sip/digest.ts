import { isSpace } from './split-values.js';
import { skipQuoted } from './params.js';

/**
 * The `username` of a Digest Authorization or Proxy-Authorization value (RFC 3261 §22.4, RFC 2617
 * §3.2.2), unquoted; null when absent or when the scheme is not Digest. Nothing else of the
 * credentials is read: the `response` must never reach a log.
 */
export function digestUsername(value: string): string | null {
  let i = 0;
  const end = value.length;
  while (i < end && isSpace(value.charCodeAt(i))) i++;
  const schemeStart = i;
  while (i < end && !isSpace(value.charCodeAt(i))) i++;
  if (value.slice(schemeStart, i).toLowerCase() !== 'digest') return null;
  while (i < end) {
    while (i < end && (isSpace(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    const nameStart = i;
    while (i < end && value.charCodeAt(i) !== 0x3d && value.charCodeAt(i) !== 0x2c) i++;
    const name = value.slice(nameStart, i).trim().toLowerCase();
    if (value.charCodeAt(i) !== 0x3d) continue;
    i++;
    while (i < end && isSpace(value.charCodeAt(i))) i++;
    const valueStart = i;
    if (value.charCodeAt(i) === 0x22) {
      i = skipQuoted(value, i, end);
      if (name === 'username') return value.slice(valueStart + 1, i - 1).replace(/\\(.)/g, '$1');
    } else {
      while (i < end && value.charCodeAt(i) !== 0x2c) i++;
      if (name === 'username') return value.slice(valueStart, i).trim();
    }
  }
  return null;
}
