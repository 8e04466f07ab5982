import { createServer, connect, type Server, type Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { ConnectionAdmission, DEFAULT_STREAM_LIMITS, type StreamLimits } from '../connection-limits.js';
import type { ConnectionReport } from '../connection-stats.js';
import { ConnectionTable, type ConnectionEntry, type StreamConnection } from '../connection-table.js';
import { endpointKey, flowText, normalizeAddress, type Flow } from '../flow.js';
import { StreamFramer } from '../stream-framer.js';
import { admissionRefusals } from './refusal-log.js';
import type { MessageSink, StreamTransport } from './transport.js';

export interface TcpTransportOptions {
  /** Listen address; null for a transport that only opens connections (no listener). */
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly limits?: StreamLimits;
  /** Shared with the WebSocket listener so that the caps hold for both together. */
  readonly admission?: ConnectionAdmission;
  readonly logger?: Logger;
}

const CRLF = Buffer.from('\r\n', 'latin1');

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
 * SIP over TCP (RFC 3261 §18): messages framed by Content-Length, responses and requests to a peer
 * sent on its existing connection, a new connection opened when there is none. Accepted
 * connections are admitted within StreamLimits; every connection is bounded in what it may leave
 * unread and unwritten.
 */
export async function startTcpTransport(options: TcpTransportOptions, sink: MessageSink): Promise<StreamTransport> {
  const log = options.logger ?? pino({ enabled: false });
  const limits = options.limits ?? DEFAULT_STREAM_LIMITS;
  const admission = options.admission ?? new ConnectionAdmission(limits);
  const table = new ConnectionTable<TcpConnection>(limits);
  const refused = admissionRefusals(log, 'tcp', limits, table.stats);
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
        log.debug({ source: flowText(flow) }, 'oversized SIP message on TCP; connection closed');
        table.close(entry, 'closedOversized');
        return;
      }
      table.received(entry, completed, framer.buffered > 0);
    });
    socket.on('error', (err) => log.debug({ err, source: flowText(flow) }, 'TCP connection error'));
    socket.on('close', () => table.remove(entry));
  };

  let server: Server | null = null;
  let local = { host: options.listen?.host ?? '0.0.0.0', port: 0 };
  if (options.listen !== null) {
    const s = createServer((socket) => {
      const remote = socket.remoteAddress;
      const port = socket.remotePort;
      if (closed || remote === undefined || port === undefined) {
        socket.destroy();
        return;
      }
      const address = normalizeAddress(remote);
      const admitted = admission.admit(address);
      if (admitted !== 'ok') {
        refused(admitted, address);
        socket.destroy();
        return;
      }
      socket.once('close', () => admission.release(address));
      table.stats.accepted++;
      const flow: Flow = { transport: 'tcp', address, port };
      attach(socket, flow, table.add(endpointKey(address, port), new TcpConnection(socket), true), false);
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
        entry = table.add(key, new TcpConnection(socket), false);
        attach(socket, { transport: 'tcp', address: target.address, port: target.port }, entry, true);
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
