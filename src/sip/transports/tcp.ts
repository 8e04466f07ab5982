import { createServer, connect, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { ConnectionTable, type ConnectionEntry } from '../connection-table.js';
import { endpointKey, normalizeAddress, type Flow } from '../flow.js';
import { StreamFramer } from '../stream-framer.js';
import { refusalLogger } from './refusal-log.js';
import type { MessageSink, Transport } from './transport.js';

export interface TcpTransportOptions {
  /** Listen address; null for a transport that only opens connections (no listener). */
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  readonly logger?: Logger;
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * SIP over TCP (RFC 3261 §18): messages framed by Content-Length, responses and requests to a peer
 * sent on its existing connection, a new connection opened when there is none.
 */
export async function startTcpTransport(options: TcpTransportOptions, sink: MessageSink): Promise<Transport> {
  const log = options.logger ?? pino({ enabled: false });
  const table = new ConnectionTable<Socket>({
    maxConnections: options.maxConnections ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 600_000,
  });
  const refused = refusalLogger(log, 'tcp', options.maxConnections ?? 10_000);
  let closed = false;

  const attach = (socket: Socket, flow: Flow, entry: ConnectionEntry<Socket>): void => {
    const framer = new StreamFramer();
    socket.setNoDelay(true);
    const events = {
      message: (frame: Buffer): void => sink(frame, flow),
      ping: (): void => {
        socket.write(CRLF);
      },
    };
    socket.on('data', (chunk: Buffer) => {
      entry.lastActivity = Date.now();
      if (!framer.push(chunk, events)) {
        log.debug({ flow }, 'oversized SIP message on TCP; connection closed');
        socket.destroy();
      }
    });
    socket.on('error', (err) => log.debug({ err, flow }, 'TCP connection error'));
    socket.on('close', () => table.remove(entry));
  };

  let server: Server | null = null;
  let local = { host: options.listen?.host ?? '0.0.0.0', port: 0 };
  if (options.listen !== null) {
    const s = createServer((socket) => {
      const address = socket.remoteAddress;
      const port = socket.remotePort;
      if (closed || address === undefined || port === undefined) {
        socket.destroy();
        return;
      }
      const flow: Flow = { transport: 'tcp', address: normalizeAddress(address), port };
      const entry = table.add(endpointKey(flow.address, flow.port), socket);
      if (entry === null) {
        refused();
        socket.destroy();
        return;
      }
      attach(socket, flow, entry);
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.listen?.port ?? 0, options.listen?.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', (err) => log.error({ err }, 'TCP listener error'));
    const bound = s.address();
    if (bound !== null && typeof bound === 'object') local = { host: options.listen.host, port: bound.port };
  }

  return {
    name: 'tcp',
    local,
    send(target: Flow, data: Buffer): boolean {
      if (closed) return false;
      const key = endpointKey(target.address, target.port);
      let entry = table.get(key);
      if (entry === undefined) {
        const socket = connect({ host: target.address, port: target.port });
        const added = table.add(key, socket);
        if (added === null) {
          socket.destroy();
          return false;
        }
        entry = added;
        attach(socket, { transport: 'tcp', address: target.address, port: target.port }, entry);
      }
      // Writes before the connection is up are queued by Node and sent once it is.
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
      if (server !== null) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
