/** The transports the embedded proxy speaks: UDP, TCP and TLS (RFC 3261 §18, §26), WS and WSS (RFC 7118). */
export type TransportName = 'udp' | 'tcp' | 'ws' | 'tls' | 'wss';

/**
 * A network flow: transport plus the remote IP address and port (RFC 5626 §3 calls this a flow).
 * For TCP/WS it names one connection; for UDP one remote socket.
 */
export interface Flow {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
}

/**
 * A flow as every log line writes it (`source`, `target`): `udp:127.0.0.1:5060`,
 * `tcp:[2001:db8::1]:5060`. One shape everywhere, so one grep finds a peer (issue 9, item 5).
 */
export function flowText(flow: { readonly transport: string; readonly address: string; readonly port: number }): string {
  const address = flow.address.includes(':') ? `[${flow.address}]` : flow.address;
  return `${flow.transport}:${address}:${flow.port}`;
}

export function sameFlow(a: Flow, b: Flow): boolean {
  return a.transport === b.transport && a.port === b.port && a.address === b.address;
}

/** Transports whose messages are framed by Content-Length in a byte stream (RFC 3261 §18.3). */
export function isByteStream(transport: TransportName): boolean {
  return transport === 'tcp' || transport === 'tls';
}

/** Key of a flow within one transport's connection table. */
export function endpointKey(address: string, port: number): string {
  return `${address}|${port}`;
}

/** Maps a Via transport or a URI `transport` parameter to one we serve; null when we do not. */
export function transportFromName(name: string | null | undefined): TransportName | null {
  switch ((name ?? '').toLowerCase()) {
    case 'udp':
      return 'udp';
    case 'tcp':
      return 'tcp';
    case 'ws':
      return 'ws';
    case 'tls':
      return 'tls';
    case 'wss':
      return 'wss';
    default:
      return null;
  }
}

/** Node reports IPv4 peers of dual-stack sockets as `::ffff:a.b.c.d`; SIP wants `a.b.c.d`. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
