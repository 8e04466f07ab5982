import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConnectionTable } from '../connection-table.js';
import { endpointKey, normalizeAddress, type Flow } from '../flow.js';
import { MAX_MESSAGE_SIZE } from '../parse-message.js';
import { refusalLogger } from './refusal-log.js';
import type { MessageSink, Transport } from './transport.js';

export interface WsTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  readonly logger?: Logger;
}

/** RFC 7118 §4: the WebSocket subprotocol a SIP client must ask for. */
export const SIP_SUBPROTOCOL = 'sip';

/**
 * SIP over WebSocket (RFC 7118): the handshake must offer the `sip` subprotocol, each WebSocket
 * message carries one SIP message, and everything for a client goes back on its connection (the
 * server cannot open one). Replies are sent as text frames.
 */
export async function startWsTransport(options: WsTransportOptions, sink: MessageSink): Promise<Transport> {
  const log = options.logger ?? pino({ enabled: false });
  const table = new ConnectionTable<{ write(data: Buffer): void; destroy(): void }>({
    maxConnections: options.maxConnections ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 600_000,
  });
  const refused = refusalLogger(log, 'ws', options.maxConnections ?? 10_000);
  let closed = false;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_SIZE,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (protocols: Set<string>) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
  });
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err }, 'WebSocket handshake socket error'));
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim().toLowerCase());
    if (closed || !offered.includes(SIP_SUBPROTOCOL)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  const accept = (ws: WebSocket, req: IncomingMessage): void => {
    const address = req.socket.remoteAddress;
    const port = req.socket.remotePort;
    if (address === undefined || port === undefined) {
      ws.terminate();
      return;
    }
    const flow: Flow = { transport: 'ws', address: normalizeAddress(address), port };
    const connection = {
      write: (data: Buffer): void => ws.send(data, { binary: false }),
      destroy: (): void => ws.terminate(),
    };
    const entry = table.add(endpointKey(flow.address, flow.port), connection);
    if (entry === null) {
      refused();
      ws.terminate();
      return;
    }
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      entry.lastActivity = Date.now();
      sink(toBuffer(data), flow);
    });
    ws.on('error', (err) => log.debug({ err, flow }, 'WebSocket error'));
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
    name: 'ws',
    local: { host: options.host, port },
    send(target: Flow, data: Buffer): boolean {
      if (closed) return false;
      const entry = table.get(endpointKey(target.address, target.port));
      if (entry === undefined) return false;
      table.write(entry, data);
      return true;
    },
    alias(flow: Flow, host: string, port: number): void {
      table.aliasFlow(flow, host, port);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      table.closeAll();
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
