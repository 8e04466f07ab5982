import { createServer, connect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { pino, type Logger } from 'pino';
import { ConnectionAdmission, DEFAULT_STREAM_LIMITS, type StreamLimits } from './connection-limits.js';
import type { ConnectionReport } from './connection-stats.js';
import { ConnectionTable, type ConnectionEntry, type StreamConnection } from './connection-table.js';
import { endpointKey, flowText, normalizeAddress, type Flow } from './flow.js';
import { StreamFramer } from './stream-framer.js';
import { admissionRefusals, admitSocket } from './admit-socket.js';
import type { MessageSink, StreamTransport } from './transport.js';

export interface TcpTransportOptions {
  /** Listen address; null for a transport that only opens connections (no listener). */
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly limits?: StreamLimits;
  /** Shared with the WebSocket listener so that the caps hold for both together. */
  readonly admission?: ConnectionAdmission;
  readonly logger?: Logger;
  /** SIP over TLS (RFC 3261 §26) instead of TCP: the transport is then `tls`. */
  readonly tls?: StreamTlsOptions;
}

export interface StreamTlsOptions {
  /** The listener's certificate and key (see tls-credentials.ts). */
  readonly credentials: SecureContextOptions;
  /**
   * How to open a connection to `target` (CA, verification, SNI); null when this side does not
   * open TLS connections there — the sidecar dials only its upstream, whose certificate it checks.
   */
  readonly dial: (target: Flow) => ConnectionOptions | null;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const DIAL_WARNING_EVERY_MS = 10_000;

/** A TCP socket as the connection table sees it. */
class TcpConnection implements StreamConnection {
  constructor(readonly socket: Socket) {}
  write(data: Buffer): void {
    this.socket.write(data);
  }
  destroy(): void {
    this.socket.destroy();
  }
  get queuedBytes(): number {
    return this.socket.writableLength;
  }
}

/**
 * SIP over TCP (RFC 3261 §18), or over TLS (§26) with `options.tls`: messages framed by
 * Content-Length, responses and requests to a peer sent on its existing connection, a new
 * connection opened when there is none. Accepted connections are admitted within StreamLimits
 * (a TLS one when its TCP connection arrives, before the handshake, which must end within the
 * read timeout); every connection is bounded in what it may leave unread and unwritten.
 */
export async function startTcpTransport(options: TcpTransportOptions, sink: MessageSink): Promise<StreamTransport> {
  const log = options.logger ?? pino({ enabled: false });
  const limits = options.limits ?? DEFAULT_STREAM_LIMITS;
  const admission = options.admission ?? new ConnectionAdmission(limits);
  const table = new ConnectionTable<TcpConnection>(limits);
  const secure = options.tls;
  const name = secure === undefined ? 'tcp' : 'tls';
  const refused = admissionRefusals(log, name, limits, table.stats);
  let closed = false;

  /** `dialed`: this side opened the connection, so its peer is really at `flow` (TCP handshake). */
  const attach = (socket: Socket, flow: Flow, entry: ConnectionEntry<TcpConnection>, dialed: boolean): void => {
    const framer = new StreamFramer();
    socket.setNoDelay(true);
    let completed = false;
    const events = {
      message: (frame: Buffer): void => {
        completed = true;
        sink(frame, flow, dialed);
      },
      ping: (): void => {
        completed = true;
        table.write(entry, CRLF);
      },
    };
    socket.on('data', (chunk: Buffer) => {
      completed = false;
      if (!framer.push(chunk, events)) {
        log.debug({ source: flowText(flow) }, `oversized SIP message on ${name.toUpperCase()}; connection closed`);
        table.close(entry, 'closedOversized');
        return;
      }
      table.received(entry, completed, framer.buffered > 0);
    });
    socket.on('error', (err) => log.debug({ err, source: flowText(flow) }, `${name.toUpperCase()} connection error`));
    socket.on('close', () => table.remove(entry));
  };

  /** A TCP connection a peer opened: admitted (or closed) before anything is read from it. */
  const admit = (socket: Socket): string | null => {
    if (closed || socket.remotePort === undefined) {
      socket.destroy();
      return null;
    }
    return admitSocket(socket, admission, refused);
  };
  /** A connection ready for SIP: plain TCP once admitted, TLS once its handshake is done. */
  const accepted = (socket: Socket): void => {
    const port = socket.remotePort;
    const remote = socket.remoteAddress;
    if (closed || remote === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    const address = normalizeAddress(remote);
    table.stats.accepted++;
    const flow: Flow = { transport: name, address, port };
    attach(socket, flow, table.add(endpointKey(address, port), new TcpConnection(socket), true), false);
  };

  let server: Server | TlsServer | null = null;
  let local = { host: options.listen?.host ?? '0.0.0.0', port: 0 };
  if (options.listen !== null) {
    let s: Server | TlsServer;
    if (secure === undefined) {
      s = createServer((socket) => {
        if (admit(socket) !== null) accepted(socket);
      });
    } else {
      // The handshake gets the read timeout a first message gets; tls.Server ends it after that.
      s = createTlsServer({ ...secure.credentials, handshakeTimeout: limits.messageReadTimeoutMs }, accepted);
      s.on('connection', admit);
      s.on('tlsClientError', (err, socket) => {
        if ((err as NodeJS.ErrnoException).code === 'ERR_TLS_HANDSHAKE_TIMEOUT') table.stats.closedReadTimeout++;
        log.debug({ err, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
    }
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.listen?.port ?? 0, options.listen?.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', (err) => log.error({ err }, `${name.toUpperCase()} listener error`));
    const bound = s.address();
    if (bound !== null && typeof bound === 'object') local = { host: options.listen.host, port: bound.port };
  }

  let lastDialWarning = 0;
  /** A new connection to `target`, or null when this side does not dial there (TLS: not the upstream). */
  const dial = (target: Flow): Socket | null => {
    if (secure === undefined) return connect({ host: target.address, port: target.port });
    const tlsOptions = secure.dial(target);
    if (tlsOptions === null) return null;
    const socket = tlsConnect({ ...tlsOptions, host: target.address, port: target.port });
    // A next hop that fails verification must be seen (RFC 3261 §26.3.1), but at most every 10 s:
    // each request to it dials again.
    socket.once('error', (err) => {
      const now = Date.now();
      if (now - lastDialWarning < DIAL_WARNING_EVERY_MS) return;
      lastDialWarning = now;
      log.warn({ err, target: `${target.address}:${target.port}` }, 'TLS connection to the next hop failed');
    });
    return socket;
  };

  return {
    name,
    local,
    send(target: Flow, data: Buffer): boolean {
      if (closed) return false;
      const key = endpointKey(target.address, target.port);
      let entry = table.get(key);
      if (entry === undefined) {
        const socket = dial(target);
        if (socket === null) return false;
        entry = table.add(key, new TcpConnection(socket), false);
        attach(socket, { transport: name, address: target.address, port: target.port }, entry, true);
      }
      // Writes before the connection is up are queued by Node (and bounded like any other).
      return table.write(entry, data);
    },
    connections(): ConnectionReport {
      return table.report();
    },
    connected(target: Flow): boolean {
      return table.get(endpointKey(target.address, target.port)) !== undefined;
    },
    setCredentials(credentials: SecureContextOptions): void {
      // New handshakes use the new context; established connections keep theirs (no call drops).
      if (server !== null && 'setSecureContext' in server) server.setSecureContext(credentials);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      table.closeAll();
      if (server !== null) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
