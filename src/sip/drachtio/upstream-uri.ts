/** The upstream SIP server requests are proxied to (config `sip.upstream`). */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

/**
 * The SIP URI drachtio-server sends proxied requests to. drachtio-server uses it as the next hop
 * and keeps the Request-URI unless that names drachtio-server itself, so the callee survives
 * (drachtio-server `ProxyCore::ClientTransaction::forwardRequest`). IPv6 literals get brackets
 * (RFC 3261 §25.1 `IPv6reference`).
 */
export function upstreamUri(target: UpstreamTarget): string {
  const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host;
  return `sip:${host}:${target.port};transport=${target.transport}`;
}
