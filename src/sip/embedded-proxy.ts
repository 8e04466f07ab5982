import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { CacheBounds } from './bounded-cache.js';
import type { HepEndpoint } from './capture/hep-packet.js';
import type { SipCapture } from './capture/sip-capture.js';
import { ConnectionAdmission, DEFAULT_STREAM_LIMITS, type StreamLimits } from './connection-limits.js';
import type { ConnectionReport } from './connection-stats.js';
import type { Flow, TransportName } from './flow.js';
import { FlowTokens } from './flow-token.js';
import type { Gate } from './gate.js';
import { LocalAddresses, type LocalEndpoint } from './local-addresses.js';
import type { PathMode } from './path-mode.js';
import type { ProxyStats } from './proxy-stats.js';
import { Resolver } from './resolver.js';
import { createProxy, type CacheReport, type Proxy, type ProxyListener } from './stateless-proxy.js';
import { startTcpTransport } from './transports/tcp.js';
import type { MessageSink, StreamTransport, Transport } from './transports/transport.js';
import { startUdpTransport, type UdpBufferSizes } from './transports/udp.js';
import { startWsTransport } from './transports/ws.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 lets the OS choose (tests); the chosen port is in `addresses`. */
  readonly port: number;
}

export interface EmbeddedProxyOptions {
  readonly listen: { readonly udp?: ListenAddress; readonly tcp?: ListenAddress; readonly ws?: ListenAddress };
  /** The SIP server behind the proxy (Kamailio's "outbound proxy"). */
  readonly upstream: { readonly host: string; readonly port: number; readonly transport: 'udp' | 'tcp' };
  /** Host written into Via, Record-Route and Path; default the listen host (an interface address for 0.0.0.0). */
  readonly advertisedHost?: string;
  readonly gate?: Gate;
  readonly logger?: Logger;
  /** UDP socket buffers; default 4 MiB each (DESIGN.md §5). */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;

  /** Bounds on TCP and WebSocket connections, together; each unset field takes its default. */
  readonly connections?: Partial<StreamLimits>;
  /** When to add Path to REGISTERs from clients (RFC 3327); default `always`. */
  readonly path?: PathMode;
  /** Initial requests that get Record-Route; default INVITE, SUBSCRIBE, REFER. */
  readonly recordRouteMethods?: readonly string[];
  /** Fill in rport on UDP even when not asked (force_rport); default false. */
  readonly forceRport?: boolean;
  /**
   * Key sealing the flow tokens in Record-Route/Path (at least 16 bytes); `serve` passes the one
   * kept in the database, so dialogs and registrations survive a restart. Default random.
   */
  readonly flowTokenKey?: Buffer;
  /** Bounds of the cache of local replies (see ReplyCache). */
  readonly replyCache?: CacheBounds;
  /** HEP mirroring of every message received and sent (Homer); absent: nothing is captured. */
  readonly capture?: SipCapture;
}

export interface EmbeddedProxy {
  /** Bound addresses (ports as chosen by the OS when 0 was asked). */
  readonly addresses: { readonly udp?: ListenAddress; readonly tcp?: ListenAddress; readonly ws?: ListenAddress };
  /** Buffer sizes the kernel granted the UDP socket. */
  readonly udpBuffers: UdpBufferSizes | null;
  readonly upstream: Flow;
  readonly stats: Readonly<ProxyStats>;
  /** What the proxy's caches hold. */
  caches(): CacheReport;
  /** Our end of `transport` as SIP capture names it (a listener's address and port); null when not served. */
  localEndpoint(transport: string): HepEndpoint | null;
  /** What the stream transports hold and have refused or closed. */
  connections(): { readonly tcp?: ConnectionReport; readonly ws?: ConnectionReport };
  /** Stops every listener and connection; resolves when all are released. */
  close(): Promise<void>;
}

/**
 * Starts the embedded SIP proxy (DESIGN.md §3): the stateless core behind UDP, TCP and WebSocket
 * listeners, forwarding to the configured upstream, asking `gate` about REGISTERs and initial
 * INVITEs.
 */
export async function startEmbeddedProxy(options: EmbeddedProxyOptions): Promise<EmbeddedProxy> {
  const log = options.logger;
  // The UDP socket is of one address family; resolve names to it (e.g. localhost → 127.0.0.1, not ::1).
  const family = isIPv6(options.listen.udp?.host ?? options.listen.tcp?.host ?? '') ? 6 : 4;
  const upstreamAddress = (await lookup(options.upstream.host, { family })).address;
  const upstream: Flow = { transport: options.upstream.transport, address: upstreamAddress, port: options.upstream.port };
  let core: Proxy | null = null;
  /** Where each transport listens, as HEP names our end; filled in once they are bound. */
  const locals = new Map<TransportName, HepEndpoint>();
  const capture = options.capture;
  // Without capture the sink is the bare call: the UDP hot path pays nothing for the feature.
  const sink: MessageSink =
    capture === undefined
      ? (data, source, dialed) => core?.handle(data, source, dialed)
      : (data, source, dialed) => {
          capture.received(data, source, locals.get(source.transport) ?? UNBOUND);
          core?.handle(data, source, dialed);
        };
  const transports = new Map<TransportName, Transport>();
  const streams: { tcp?: StreamTransport; ws?: StreamTransport } = {};
  let udpBuffers: UdpBufferSizes | null = null;
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...definedFields(options.connections ?? {}) };
  const common = { logger: log, limits, admission: new ConnectionAdmission(limits) };
  try {
    const { udp, tcp, ws } = options.listen;
    if (udp !== undefined) {
      const t = await startUdpTransport(
        { ...udp, recvBufferSize: options.recvBufferSize, sendBufferSize: options.sendBufferSize, logger: log },
        sink,
      );
      udpBuffers = t.buffers;
      transports.set('udp', t);
    }
    if (tcp !== undefined || options.upstream.transport === 'tcp') {
      streams.tcp = await startTcpTransport({ ...common, listen: tcp ?? null }, sink);
      transports.set('tcp', streams.tcp);
    }
    if (ws !== undefined) {
      streams.ws = await startWsTransport({ ...common, ...ws }, sink);
      transports.set('ws', streams.ws);
    }
    if (transports.size === 0) throw new Error('the embedded proxy needs at least one listen address');
    if (!transports.has(options.upstream.transport)) {
      throw new Error(`upstream transport ${options.upstream.transport} needs a ${options.upstream.transport} listener`);
    }
  } catch (err) {
    await Promise.all([...transports.values()].map((t) => t.close()));
    throw err;
  }

  const listeners: ProxyListener[] = [];
  const endpoints: LocalEndpoint[] = [];
  for (const t of transports.values()) {
    const listening = t.name !== 'tcp' || options.listen.tcp !== undefined;
    const port = listening ? t.local.port : (options.listen.udp !== undefined ? (transports.get('udp')?.local.port ?? 5060) : 5060);
    const host = options.advertisedHost ?? advertisable(t.local.host);
    listeners.push({ transport: t.name, host, port });
    endpoints.push({ host, port }, { host: t.local.host, port });
    locals.set(t.name, { address: isIP(t.local.host) !== 0 && !WILDCARD.has(t.local.host) ? t.local.host : isIP(host) !== 0 ? host : '0.0.0.0', port });
  }
  const send = (target: Flow, data: Buffer): boolean => transports.get(target.transport)?.send(target, data) ?? false;
  core = createProxy({
    io: {
      send:
        capture === undefined
          ? send
          : (target, data) => {
              const sent = send(target, data);
              if (sent) capture.sent(data, target, locals.get(target.transport) ?? UNBOUND);
              return sent;
            },
      connected: (flow) => transports.get(flow.transport)?.connected(flow) ?? false,
    },
    listeners,
    localAddresses: new LocalAddresses(endpoints),
    upstream,
    gate: options.gate,
    logger: log,
    path: options.path,
    recordRouteMethods: options.recordRouteMethods,
    forceRport: options.forceRport,
    flowTokens: new FlowTokens(options.flowTokenKey ?? randomBytes(32)),
    resolver: new Resolver(family),
    replyCache: options.replyCache,
  });
  const proxy = core;
  const addresses: { udp?: ListenAddress; tcp?: ListenAddress; ws?: ListenAddress } = {};
  for (const t of transports.values()) {
    if (t.name !== 'tcp' || options.listen.tcp !== undefined) addresses[t.name] = { host: t.local.host, port: t.local.port };
  }
  log?.info({ listeners, upstream, udpBuffers }, 'embedded SIP proxy listening');
  let closing: Promise<void> | null = null;
  return {
    addresses,
    udpBuffers,
    upstream,
    get stats() {
      return proxy.stats;
    },
    caches() {
      return proxy.caches();
    },
    localEndpoint(transport) {
      return locals.get(transport as TransportName) ?? null;
    },
    connections() {
      return { ...(streams.tcp ? { tcp: streams.tcp.connections() } : {}), ...(streams.ws ? { ws: streams.ws.connections() } : {}) };
    },
    close(): Promise<void> {
      closing ??= Promise.all([...transports.values()].map((t) => t.close())).then(() => {
        core = null;
      });
      return closing;
    },
  };
}

const WILDCARD: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);
const UNBOUND: HepEndpoint = Object.freeze({ address: '0.0.0.0', port: 0 });

/** A wildcard listen address cannot be written into a Via: use an interface address instead. */
function advertisable(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  }
  return '127.0.0.1';
}

/** The fields of a partial options object that are set (an explicit undefined keeps the default). */
function definedFields<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}
