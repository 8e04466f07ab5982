import { parseParams, type Param } from './params.js';

/** A SIP, SIPS or tel URI, split as far as the proxy needs it (RFC 3261 §19.1.1, RFC 3966). */
export interface SipUri {
  /** Lower-case scheme: `sip`, `sips`, `tel`, or whatever else was there. */
  readonly scheme: string;
  /** The user part without password, still percent-encoded; null when absent. */
  readonly user: string | null;
  /** Host without IPv6 brackets, lower case; empty for tel URIs. */
  readonly host: string;
  readonly port: number | null;
  /** URI parameters (`;transport=tcp;lr`), names lower case. */
  readonly params: readonly Param[];
}

/**
 * Parses a URI given either bare (`sip:1001@host`) or as a name-addr (`"A" <sip:1001@host>;tag=x`:
 * the part inside the brackets is used). Null when it is not a URI at all.
 */
export function parseUri(input: string): SipUri | null {
  // The facts of one request read the same URI more than once (its user, then its domain): the
  // last answer is kept, which is safe as a SipUri is never changed.
  if (input === lastInput) return lastUri;
  const uri = parseUriText(input);
  lastInput = input;
  lastUri = uri;
  return uri;
}

let lastInput: string | null = null;
let lastUri: SipUri | null = null;

function parseUriText(input: string): SipUri | null {
  let text = input.trim();
  const open = text.indexOf('<');
  if (open >= 0) {
    const close = text.indexOf('>', open + 1);
    text = text.slice(open + 1, close < 0 ? text.length : close).trim();
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const scheme = text.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return null;
  const headersAt = text.indexOf('?', colon + 1);
  const end = headersAt < 0 ? text.length : headersAt;
  if (scheme === 'tel') {
    const semi = text.indexOf(';', colon + 1);
    const numberEnd = semi < 0 || semi > end ? end : semi;
    const number = text.slice(colon + 1, numberEnd);
    if (number.length === 0) return null;
    return { scheme, user: number, host: '', port: null, params: parseParams(text, numberEnd, end) };
  }
  // The user part may itself hold ';' (user=phone parameters), so find '@' first.
  const at = text.lastIndexOf('@', end - 1);
  let user: string | null = null;
  let hostStart = colon + 1;
  if (at > colon) {
    const userInfo = text.slice(colon + 1, at);
    const password = userInfo.indexOf(':');
    user = password < 0 ? userInfo : userInfo.slice(0, password);
    hostStart = at + 1;
  }
  let i = hostStart;
  let host: string;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0 || close > end) return null;
    host = text.slice(i + 1, close);
    i = close + 1;
  } else {
    while (i < end && !isHostEnd(text.charCodeAt(i))) i++;
    host = text.slice(hostStart, i);
  }
  if (host.length === 0) return null;
  let port: number | null = null;
  if (text.charCodeAt(i) === 0x3a) {
    const portStart = ++i;
    while (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    port = Number(text.slice(portStart, i));
    if (i === portStart || port > 65535) return null;
  }
  while (i < end && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
  if (i < end && text.charCodeAt(i) !== 0x3b) return null;
  return { scheme, user, host: host.toLowerCase(), port, params: parseParams(text, i, end) };
}

/** Formats a host for a URI or Via: IPv6 literals need brackets (RFC 3261 §25.1). */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function isHostEnd(c: number): boolean {
  return c === 0x3a || c === 0x3b || c === 0x3f || c === 0x20 || c === 0x09 || c === 0x3e;
}
