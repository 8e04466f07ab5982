import { transportFromName, type Flow, type TransportName } from '../transports/flow.js';
import { paramValue } from '../message/params.js';
import type { Resolver } from './resolver.js';
import { parseUri, type SipUri } from '../message/uri.js';
import { defaultPort, type Via } from '../message/via.js';

/** A next hop not yet resolved to an IP address; null fields explain why it cannot be used. */
export interface HopTarget {
  readonly transport: TransportName;
  readonly host: string;
  readonly port: number;
}

/**
 * Where a request goes when the next hop is a URI (a Route value or the Request-URI): its
 * `transport` parameter (UDP by default, TLS for a `sips:` URI), `maddr` over the host (RFC 3261
 * §19.1.1), its port or the transport's default (5061 for TLS). Null for what the proxy cannot
 * reach: tel URIs, unknown transports, a `sips:` URI over UDP (RFC 3261 §26.2.2: TLS all the way).
 */
export function hopFromUri(text: string): HopTarget | null {
  const uri = parseUri(text);
  if (uri === null || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return null;
  return hopFromParsedUri(uri);
}

export function hopFromParsedUri(uri: SipUri): HopTarget | null {
  const transportParam = paramValue(uri.params, 'transport');
  let transport = transportParam === undefined ? 'udp' : transportFromName(transportParam);
  if (uri.scheme === 'sips') transport = transportParam === undefined ? 'tls' : secureOf(transport);
  if (transport === null) return null;
  const maddr = paramValue(uri.params, 'maddr');
  const host = maddr === undefined || maddr === null || maddr.length === 0 ? uri.host : maddr;
  return { transport, host, port: uri.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060) };
}

/** The transport a `sips:` URI means with its `transport` parameter (RFC 5630 §3.1.3): TCP is TLS, WS is WSS. */
function secureOf(transport: TransportName | null): TransportName | null {
  switch (transport) {
    case 'tcp':
    case 'tls':
      return 'tls';
    case 'ws':
    case 'wss':
      return 'wss';
    default:
      return null;
  }
}

/**
 * Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4): the next Via's `received` address (else
 * its host) and its `rport` (else its port); for stream transports that address names the client's
 * connection, which the proxy always stamps with received and rport.
 */
export function hopFromVia(via: Via): HopTarget | null {
  const transport = transportFromName(via.transport);
  if (transport === null) return null;
  return { transport, host: via.received ?? via.host, port: via.rport ?? via.port ?? defaultPort(via.transport) };
}

/** Resolves the host of a hop; synchronous for IP literals and cached names. */
export function resolveHop(hop: HopTarget, resolver: Resolver): Flow | Promise<Flow> {
  const address = resolver.resolve(hop.host);
  if (typeof address === 'string') return { transport: hop.transport, address, port: hop.port };
  return address.then((a) => ({ transport: hop.transport, address: a, port: hop.port }));
}
