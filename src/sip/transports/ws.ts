import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConnectionAdmission, DEFAULT_STREAM_LIMITS, type StreamLimits } from './connection-limits.js';
import type { ConnectionReport } from './connection-stats.js';
import { ConnectionTable, type StreamConnection } from './connection-table.js';
import { endpointKey, flowText, normalizeAddress, type Flow } from './flow.js';
import { MAX_MESSAGE_SIZE } from '../message/parse-message.js';
import { admissionRefusals, admitSocket } from './admit-socket.js';
import type { MessageSink, StreamTransport } from './transport.js';

export interface WsTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly limits?: StreamLimits;
  /** Shared with the TCP listener so that the caps hold for both together. */
  readonly admission?: ConnectionAdmission;
  readonly logger?: Logger;
  /** Secure WebSocket (RFC 7118 `wss`): the listener's certificate and key; the transport is then `wss`. */
  readonly tls?: SecureContextOptions;
}

/** RFC 7118 §4: the WebSocket subprotocol a SIP client must ask for. */
export const SIP_SUBPROTOCOL = 'sip';

/** A WebSocket as the connection table sees it; replies go as text frames. */
class WsConnection implements StreamConnection {
  constructor(readonly ws: WebSocket) {}
  write(data: Buffer): void {
    this.ws.send(data, { binary: false });
  }
  destroy(): void {
    this.ws.terminate();
  }
  get queuedBytes(): number {
    return this.ws.bufferedAmount;
  }
}

/**
 * SIP over WebSocket (RFC 7118), or secure WebSocket with `options.tls`: the handshake must offer
 * the `sip` subprotocol, each WebSocket message carries one SIP message, and everything for a
 * client goes back on its connection (the server cannot open one). Connections are admitted when
 * the TCP connection arrives, before the TLS and HTTP handshakes, which must complete within the
 * read timeout.
 */
export async function startWsTransport(options: WsTransportOptions, sink: MessageSink): Promise<StreamTransport> {
  const log = options.logger ?? pino({ enabled: false });
  const limits = options.limits ?? DEFAULT_STREAM_LIMITS;
  const admission = options.admission ?? new ConnectionAdmission(limits);
  const table = new ConnectionTable<WsConnection>(limits);
  const name = options.tls === undefined ? 'ws' : 'wss';
  const refused = admissionRefusals(log, name, limits, table.stats);
  /** Accepted sockets whose handshake has not completed, each with its deadline. */
  const handshaking = new Map<Duplex, NodeJS.Timeout>();
  let closed = false;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_SIZE,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (protocols: Set<string>) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
  });
  const upgradeRequired = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
  };
  const server: Server | HttpsServer = options.tls === undefined ? createServer(upgradeRequired) : createHttpsServer(options.tls, upgradeRequired);
  server.on('tlsClientError', (err: Error) => log.debug({ err }, 'WSS handshake failed'));
  server.on('connection', (socket: Socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    if (admitSocket(socket, admission, refused) === null) return;
    table.stats.accepted++;
    const deadline = setTimeout(() => {
      table.stats.closedReadTimeout++;
      socket.destroy();
    }, limits.messageReadTimeoutMs);
    deadline.unref();
    handshaking.set(socket, deadline);
    socket.once('close', () => {
      clearTimeout(deadline);
      handshaking.delete(socket);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err }, 'WebSocket handshake socket error'));
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim().toLowerCase());
    if (closed || !offered.includes(SIP_SUBPROTOCOL)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, socket));
  });

  const accept = (ws: WebSocket, req: IncomingMessage, socket: Duplex): void => {
    clearTimeout(handshaking.get(socket));
    handshaking.delete(socket);
    const address = req.socket.remoteAddress;
    const port = req.socket.remotePort;
    if (address === undefined || port === undefined) {
      ws.terminate();
      return;
    }
    const flow: Flow = { transport: name, address: normalizeAddress(address), port };
    const entry = table.add(endpointKey(flow.address, flow.port), new WsConnection(ws), true);
    // Runs before ws parses the bytes: a message they complete then clears what they began.
    socket.prependListener('data', () => table.received(entry, false, true));
    const completed = (): void => table.received(entry, true, false);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      completed();
      sink(toBuffer(data), flow, false);
    });
    ws.on('ping', completed);
    ws.on('pong', completed);
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the connection itself (1009) when a message exceeds maxPayload.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') table.stats.closedOversized++;
      log.debug({ err, source: flowText(flow) }, 'WebSocket error');
    });
    ws.on('close', () => table.remove(entry));
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'WebSocket listener error'));
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : options.port;

  return {
    name,
    local: { host: options.host, port },
    send(target: Flow, data: Buffer): boolean {
      if (closed) return false;
      const entry = table.get(endpointKey(target.address, target.port));
      if (entry === undefined) return false;
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
      if ('setSecureContext' in server) server.setSecureContext(credentials);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      table.closeAll();
      for (const [socket, deadline] of handshaking) {
        clearTimeout(deadline);
        socket.destroy();
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
