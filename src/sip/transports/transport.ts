import type { SecureContextOptions } from 'node:tls';
import type { ConnectionReport } from './connection-stats.js';
import type { Flow, TransportName } from './flow.js';

/**
 * Called for each message a transport receives: a datagram, a framed stream message, a WS message.
 * `dialed` is true only for a message on a TCP connection this side opened (see request-origin.ts).
 */
export type MessageSink = (data: Buffer, source: Flow, dialed: boolean) => void;

/**
 * The seam between the proxy core and the network (cf. SIP.js `core` vs `platform/web`): the core
 * only ever sends bytes to a flow and receives bytes from one.
 */
export interface Transport {
  readonly name: TransportName;
  /** The address actually bound (port 0 in the options becomes the port the OS chose). */
  readonly local: { readonly host: string; readonly port: number };
  /**
   * Sends one message to `target` (an IP address). Stream transports use the connection to that
   * address if there is one — which is how responses and in-dialog requests get back to a client
   * on its own connection (RFC 3261 §18.2.2, RFC 7118 §5) — and TCP opens one otherwise.
   * Returns false when the message cannot be sent (no WebSocket connection, closed transport).
   */
  send(target: Flow, data: Buffer): boolean;
  /** Whether a connection to `target` is open (stream transports); UDP: always true. */
  connected(target: Flow): boolean;
  /** Stops listening and releases every socket and timer. */
  close(): Promise<void>;
}

/** A connection-oriented transport (TCP, TLS, WebSocket), which also reports on its connections. */
export interface StreamTransport extends Transport {
  connections(): ConnectionReport;
  /** TLS and WSS: the certificate and key for handshakes from now on (SIGHUP); others ignore it. */
  setCredentials(credentials: SecureContextOptions): void;
}
