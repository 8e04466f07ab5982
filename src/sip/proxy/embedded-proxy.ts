import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';
import { pino, type Logger } from 'pino';
import type { CacheBounds } from './bounded-cache.js';
import type { HepEndpoint } from '../capture/hep-packet.js';
import type { SipCapture } from '../capture/sip-capture.js';
import { ConnectionAdmission, DEFAULT_STREAM_LIMITS, type StreamLimits } from '../transports/connection-limits.js';
import type { ConnectionReport } from '../transports/connection-stats.js';
import { sameFlow, type Flow, type TransportName } from '../transports/flow.js';
import { FlowTokens } from './flow-token.js';
import type { MaxForwardsPolicy } from './forward-request.js';
import type { Gate } from './gate.js';
import { startDelayMonitor } from './delay-monitor.js';
import { LocalAddresses, type LocalEndpoint } from './local-addresses.js';
import { DEFAULT_OVERLOAD, OverloadControl, UPDATE_INTERVAL_MS, type OverloadReport, type OverloadSettings } from './overload-control.js';
import type { PathMode } from './path-mode.js';
import type { ProxyStats } from './proxy-stats.js';
import { Resolver } from './resolver.js';
import { SheddingLog } from './shedding-log.js';
import { createProxy, type CacheReport, type Proxy, type ProxyListener } from './stateless-proxy.js';
import type { QueueProbe } from '../transports/queue-probe.js';
import { startTcpTransport } from '../transports/tcp.js';
import type { MessageSink, StreamTransport, Transport } from '../transports/transport.js';
import { startUdpTransport, type UdpBufferSizes } from '../transports/udp.js';
import { startWsTransport } from '../transports/ws.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 lets the OS choose (tests); the chosen port is in `addresses`. */
  readonly port: number;
}

/** Listen addresses by transport. */
export type Listeners = { readonly [T in TransportName]?: ListenAddress };

export interface EmbeddedProxyOptions {
  readonly listen: Listeners;
  /** The SIP server behind the proxy (Kamailio's "outbound proxy"). */
  readonly upstream: { readonly host: string; readonly port: number; readonly transport: 'udp' | 'tcp' | 'tls' };
  /** The certificate and key of the TLS and WSS listeners (needed when either is listened on). */
  readonly tls?: SecureContextOptions;
  /** How the TLS connection to the upstream is checked (CA, verification, SNI), with upstream transport `tls`. */
  readonly upstreamTls?: ConnectionOptions;
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
  /** Load shedding on the measured queueing delay; enabled by default (DEFAULT_OVERLOAD). */
  readonly overload?: Partial<OverloadSettings>;
  /** Max-Forwards added when absent and the cap of forwarded values (Kamailio maxfwd); default 70, none. */
  readonly maxForwards?: MaxForwardsPolicy;
  /** Larger received messages are refused (requests 513); default and most 65,535 bytes. */
  readonly maxMessageSize?: number;
  /** Why the sidecar is not ready, or null: an OPTIONS to the proxy itself gets 503 then (see ProxyOptions). */
  readonly notReady?: () => string | null;
}

export interface EmbeddedProxy {
  /** Bound addresses (ports as chosen by the OS when 0 was asked). */
  readonly addresses: Listeners;
  /** Buffer sizes the kernel granted the UDP socket. */
  readonly udpBuffers: UdpBufferSizes | null;
  readonly upstream: Flow;
  readonly stats: Readonly<ProxyStats>;
  /** What the proxy's caches hold. */
  caches(): CacheReport;
  /** Our end of `transport` as SIP capture names it (a listener's address and port); null when not served. */
  localEndpoint(transport: string): HepEndpoint | null;
  /** The load-shedding controller's state; null when shedding is disabled. */
  overload(): OverloadReport | null;
  /** What the stream transports hold and have refused or closed. */
  connections(): { readonly [T in TransportName]?: ConnectionReport };
  /**
   * New TLS credentials (SIGHUP): the listener's certificate for handshakes from now on, and the
   * upstream checks for connections dialled from now on. Established connections keep theirs.
   */
  setTls(credentials: SecureContextOptions | undefined, upstreamTls: ConnectionOptions | undefined): void;
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
  const l = options.listen;
  const family = isIPv6(l.udp?.host ?? l.tcp?.host ?? l.tls?.host ?? l.ws?.host ?? l.wss?.host ?? '') ? 6 : 4;
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
  const streams = new Map<TransportName, StreamTransport>();
  let udpBuffers: UdpBufferSizes | null = null;
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...definedFields(options.connections ?? {}) };
  // One admission for every stream listener: the caps hold for TCP, TLS, WS and WSS together.
  const common = { logger: log, limits, admission: new ConnectionAdmission(limits) };
  let upstreamTls = options.upstreamTls;
  const stream = async (transport: TransportName, start: Promise<StreamTransport>): Promise<void> => {
    const t = await start;
    streams.set(transport, t);
    transports.set(transport, t);
  };
  const shedding: OverloadSettings = { ...DEFAULT_OVERLOAD, ...definedFields(options.overload ?? {}) };
  let probe: QueueProbe | null = null;
  try {
    const { udp, tcp, ws, tls, wss } = options.listen;
    if (udp !== undefined) {
      const t = await startUdpTransport(
        { ...udp, recvBufferSize: options.recvBufferSize, sendBufferSize: options.sendBufferSize, probe: shedding.enabled, logger: log },
        sink,
      );
      udpBuffers = t.buffers;
      probe = t.probe;
      transports.set('udp', t);
    }
    if (tcp !== undefined || options.upstream.transport === 'tcp') await stream('tcp', startTcpTransport({ ...common, listen: tcp ?? null }, sink));
    if (ws !== undefined) await stream('ws', startWsTransport({ ...common, ...ws }, sink));
    if ((tls !== undefined || wss !== undefined) && options.tls === undefined) throw new Error('TLS and WSS listeners need a certificate and key');
    if (tls !== undefined || options.upstream.transport === 'tls') {
      // The sidecar dials over TLS only to its upstream, checking its certificate as configured.
      const dial = (target: Flow): ConnectionOptions | null => (sameFlow(target, upstream) ? (upstreamTls ?? {}) : null);
      await stream('tls', startTcpTransport({ ...common, listen: tls ?? null, tls: { credentials: options.tls ?? {}, dial } }, sink));
    }
    if (wss !== undefined) await stream('wss', startWsTransport({ ...common, ...wss, tls: options.tls ?? {} }, sink));
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
    // A TCP or TLS transport opened only to dial the upstream has no listening port of its own.
    const listening = options.listen[t.name] !== undefined;
    const port = listening ? t.local.port : (options.listen.udp !== undefined ? (transports.get('udp')?.local.port ?? 5060) : 5060);
    const host = options.advertisedHost ?? advertisable(t.local.host);
    listeners.push({ transport: t.name, host, port });
    endpoints.push({ host, port }, { host: t.local.host, port });
    locals.set(t.name, { address: isIP(t.local.host) !== 0 && !WILDCARD.has(t.local.host) ? t.local.host : isIP(host) !== 0 ? host : '0.0.0.0', port });
  }
  const send = (target: Flow, data: Buffer): boolean => transports.get(target.transport)?.send(target, data) ?? false;
  const overload = shedding.enabled ? { control: new OverloadControl(shedding), log: new SheddingLog(log ?? pino({ enabled: false })) } : null;
  const monitor =
    overload === null
      ? null
      : startDelayMonitor({
          probe,
          intervalMs: UPDATE_INTERVAL_MS,
          onDelay: (delayMs) => {
            overload.control.update(delayMs);
            overload.log.observe(overload.control.report());
          },
        });
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
    ...(overload === null ? {} : { overload }),
    maxForwards: options.maxForwards,
    maxMessageSize: options.maxMessageSize,
    notReady: options.notReady,
  });
  const proxy = core;
  const addresses: { [T in TransportName]?: ListenAddress } = {};
  for (const t of transports.values()) {
    if (options.listen[t.name] !== undefined) addresses[t.name] = { host: t.local.host, port: t.local.port };
  }
  log?.info({ listeners, upstream, udpBuffers, overload: shedding }, 'embedded SIP proxy listening');
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
    overload() {
      return overload?.control.report() ?? null;
    },
    connections() {
      return Object.fromEntries([...streams].map(([name, t]) => [name, t.connections()]));
    },
    setTls(credentials, dialUpstream) {
      if (credentials !== undefined) for (const t of streams.values()) t.setCredentials(credentials);
      upstreamTls = dialUpstream;
    },
    close(): Promise<void> {
      monitor?.stop();
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
