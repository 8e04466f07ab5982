import { formatHost, parseUri } from '../message/uri.js';

/** The upstream SIP server requests are proxied to (config `sip.upstream`). */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

/**
 * The SIP URI drachtio-server sends proxied requests to, e.g. `sip:10.0.0.2:5060;transport=udp`
 * (IPv6 literals bracketed, RFC 3261 §25.1), with `user` as its user part when given.
 *
 * drachtio-server uses this URI as the next hop and keeps the Request-URI, except when the
 * Request-URI names drachtio-server itself (a phone configured with the proxy's address): then it
 * puts this URI in its place (drachtio-server `ProxyCore::ClientTransaction::forwardRequest`).
 * Carrying the callee's user part here is what keeps `INVITE sip:1002@<drachtio>` from reaching
 * the upstream as `INVITE sip:<upstream>`, which a registrar answers 484 (RFC 3261 §21.4.22).
 */
export function upstreamUri(target: UpstreamTarget, user: string | null = null): string {
  return `sip:${user === null ? '' : `${user}@`}${formatHost(target.host)}:${target.port};transport=${target.transport}`;
}

/**
 * The user part of a SIP or SIPS Request-URI as written (still percent-encoded, RFC 3261
 * §19.1.2), so that it can be copied into another URI unchanged; null when there is none.
 */
export function requestUriUser(requestUri: string): string | null {
  // A user part ends at '@' (RFC 3261 §25.1 `userinfo`), so without one there is nothing to parse;
  // most REGISTERs name only a domain.
  if (!requestUri.includes('@')) return null;
  const uri = parseUri(requestUri);
  if (uri === null || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return null;
  return uri.user === null || uri.user.length === 0 ? null : uri.user;
}
