import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { pino, type Logger } from 'pino';
import { flowText, type Flow } from './flow.js';
import { MAX_UDP_PAYLOAD } from './message-size.js';
import { MAX_MESSAGE_SIZE } from '../message/parse-message.js';
import { UdpQueueProbe, type QueueProbe } from './queue-probe.js';
import type { MessageSink, Transport } from './transport.js';

export interface UdpTransportOptions {
  readonly host: string;
  readonly port: number;
  /**
   * Socket buffer sizes asked of the kernel (capped by net.core.rmem_max/wmem_max). The receive
   * buffer decides where a UDP proxy's knee is under load (DESIGN.md §5). Default 4 MiB.
   */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
  /** Open a probe of the receive queue (for overload control). */
  readonly probe?: boolean;
  readonly logger?: Logger;
}

export const DEFAULT_UDP_BUFFER_SIZE = 4 * 1024 * 1024;

/** The buffer sizes the kernel actually granted, for the start-up log. */
export interface UdpBufferSizes {
  readonly recv: number;
  readonly send: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram looks up the address of every datagram it sends, and dns.lookup answers even an IP
 * literal only on the next tick: at 10,000 REGISTER/s that is 20,000 ticks a second for nothing.
 * The proxy only ever sends to IP addresses (names are resolved before, by the Resolver), so those
 * are answered at once, which is what dgram does for a connected socket; names still go to
 * dns.lookup.
 */
function literalLookup(host: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  dnsLookup(host, typeof options === 'number' ? { family: options } : options, callback);
}

/** SIP over UDP (RFC 3261 §18): one message per datagram. */
export async function startUdpTransport(
  options: UdpTransportOptions,
  sink: MessageSink,
): Promise<Transport & { readonly buffers: UdpBufferSizes; readonly probe: QueueProbe | null }> {
  const log = options.logger ?? pino({ enabled: false });
  const socket: Socket = createSocket({
    type: isIPv6(options.host) ? 'udp6' : 'udp4',
    recvBufferSize: options.recvBufferSize ?? DEFAULT_UDP_BUFFER_SIZE,
    sendBufferSize: options.sendBufferSize ?? DEFAULT_UDP_BUFFER_SIZE,
    lookup: literalLookup,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // Without a callback, send errors surface here; a proxy must not die of one unreachable peer.
  socket.on('error', (err) => log.debug({ err }, 'UDP socket error'));
  const bound = socket.address();
  let probe: UdpQueueProbe | null = null;
  try {
    if (options.probe === true) probe = await UdpQueueProbe.open(options.host, bound.port);
  } catch (err) {
    socket.close();
    throw err;
  }
  const own = probe;
  socket.on('message', (data, rinfo) => {
    if (data.length > MAX_MESSAGE_SIZE || (own !== null && own.claim(data, rinfo))) return;
    sink(data, { transport: 'udp', address: rinfo.address, port: rinfo.port }, false);
  });
  let closed = false;
  return {
    name: 'udp',
    local: { host: options.host, port: bound.port },
    buffers: { recv: socket.getRecvBufferSize(), send: socket.getSendBufferSize() },
    probe,
    send(target: Flow, data: Buffer): boolean {
      // A larger datagram fails later, out of sight (EMSGSIZE); the caller must know now.
      if (closed || data.length > MAX_UDP_PAYLOAD) return false;
      try {
        socket.send(data, target.port, target.address);
        return true;
      } catch (err) {
        log.debug({ err, target: flowText(target) }, 'UDP send failed');
        return false;
      }
    },
    connected(): boolean {
      return true;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([new Promise<void>((resolve) => socket.close(() => resolve())), own?.close()]);
    },
  };
}
