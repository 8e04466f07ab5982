import type { Registry } from 'prom-client';
import type { ConnectionReport } from '../sip/transports/connection-stats.js';
import type { EmbeddedProxy } from '../sip/proxy/embedded-proxy.js';
import type { ProxyStats } from '../sip/proxy/proxy-stats.js';
import { registerCollected, single, type Sample } from './collected-metric.js';

/** The proxy counters exported one to one: metric name, help, ProxyStats field. */
const PROXY_COUNTERS: readonly (readonly [string, string, keyof ProxyStats])[] = [
  ['sipwarden_sip_messages_received_total', 'SIP messages received on every transport.', 'received'],
  ['sipwarden_sip_requests_forwarded_total', 'SIP requests forwarded (to the upstream or, from it, to clients).', 'requestsForwarded'],
  ['sipwarden_sip_responses_forwarded_total', 'SIP responses forwarded back along their Via.', 'responsesForwarded'],
  ['sipwarden_sip_local_replies_total', 'SIP replies the sidecar generated itself (refusals, 400, 483, 513, 503, OPTIONS answers).', 'localReplies'],
  ['sipwarden_sip_retransmitted_replies_total', 'Local replies sent again for retransmitted requests.', 'retransmittedReplies'],
  ['sipwarden_sip_acks_absorbed_total', 'ACKs of local non-2xx replies, absorbed (RFC 3261 §17.2.1).', 'acksAbsorbed'],
  ['sipwarden_sip_dropped_total', 'SIP messages dropped without an answer (malformed, unroutable, not ours, unsendable, over a size limit, handler faults).', 'dropped'],
  ['sipwarden_sip_malformed_total', 'Unparseable SIP messages dropped (also in sipwarden_sip_dropped_total).', 'malformed'],
  ['sipwarden_sip_bad_requests_total', 'Malformed SIP requests answered 400 Bad Request.', 'badRequests'],
  ['sipwarden_sip_too_many_hops_total', 'Requests that arrived with Max-Forwards 0: answered 483 Too Many Hops (an ACK dropped).', 'tooManyHops'],
  ['sipwarden_sip_max_forwards_capped_total', 'Requests whose Max-Forwards was lowered to sip.maxForwards.limit.', 'maxForwardsCapped'],
  ['sipwarden_sip_shed_total', 'New REGISTERs and initial INVITEs refused 503 + Retry-After by load shedding (sip.overload): the queueing delay was over its target.', 'shed'],
  ['sipwarden_sip_handler_errors_total', 'Faults caught in the SIP message handler (each message dropped); should stay 0.', 'handlerErrors'],
];

const CONNECTION_CLOSES: readonly (readonly [string, keyof ConnectionReport])[] = [
  ['idle', 'closedIdle'],
  ['read_timeout', 'closedReadTimeout'],
  ['write_queue', 'closedWriteQueue'],
  ['oversized', 'closedOversized'],
];

/**
 * The embedded proxy's counters and its stream connections (absent in drachtio mode): read at
 * scrape time from ProxyStats and the transports' ConnectionReports.
 */
export function registerSipMetrics(registry: Registry, proxy: () => EmbeddedProxy | null): void {
  const stats = (): Readonly<ProxyStats> | null => proxy()?.stats ?? null;
  const fromStats = (read: (s: Readonly<ProxyStats>) => readonly Sample[]) => (): readonly Sample[] => {
    const s = stats();
    return s === null ? [] : read(s);
  };
  for (const [name, help, field] of PROXY_COUNTERS) {
    registerCollected(registry, { name, help, type: 'counter', samples: fromStats((s) => single(s[field])) });
  }
  registerCollected(registry, {
    name: 'sipwarden_sip_messages_too_large_total',
    help: 'SIP messages over a size limit: stage="received" over sip.maxMessageSize, stage="forwarded" too large for the next hop once our headers are added; requests answered 513.',
    type: 'counter',
    samples: fromStats((s) => [
      { labels: { stage: 'received' }, value: s.oversized },
      { labels: { stage: 'forwarded' }, value: s.tooLarge },
    ]),
  });
  registerCollected(registry, {
    name: 'sipwarden_sip_own_options_total',
    help: 'OPTIONS addressed to the sidecar itself (no user part, its own address), by the status answered: 200 ready, 503 not ready.',
    type: 'counter',
    samples: fromStats((s) => [
      { labels: { status: '200' }, value: s.ownOptionsReady },
      { labels: { status: '503' }, value: s.ownOptionsNotReady },
    ]),
  });

  const streams = (): [string, ConnectionReport][] => {
    const c = proxy()?.connections() ?? {};
    return Object.entries(c).filter((e): e is [string, ConnectionReport] => e[1] !== undefined);
  };
  const perStream = (read: (transport: string, r: ConnectionReport) => readonly Sample[]) => (): readonly Sample[] =>
    streams().flatMap(([t, r]) => read(t, r));
  registerCollected(registry, {
    name: 'sipwarden_connections_open',
    help: 'TCP and WebSocket connections open now (accepted and dialled).',
    type: 'gauge',
    samples: perStream((transport, r) => [{ labels: { transport }, value: r.open }]),
  });
  registerCollected(registry, {
    name: 'sipwarden_connections_accepted_total',
    help: 'Connections peers opened and the sidecar kept.',
    type: 'counter',
    samples: perStream((transport, r) => [{ labels: { transport }, value: r.accepted }]),
  });
  registerCollected(registry, {
    name: 'sipwarden_connections_refused_total',
    help: 'Connections closed at once by a limit: sip.tcp.maxConnections (limit="max_connections") or sip.tcp.maxConnectionsPerSource.',
    type: 'counter',
    samples: perStream((transport, r) => [
      { labels: { transport, limit: 'max_connections' }, value: r.refusedTotal },
      { labels: { transport, limit: 'max_connections_per_source' }, value: r.refusedPerSource },
    ]),
  });
  registerCollected(registry, {
    name: 'sipwarden_connections_closed_total',
    help: 'Connections the sidecar closed, by reason: idle (sip.tcp.connectionLifetimeMs), read_timeout (sip.tcp.messageReadTimeoutMs), write_queue (sip.tcp.connectionWriteQueueMax), oversized (a message over 64 KiB).',
    type: 'counter',
    samples: perStream((transport, r) => CONNECTION_CLOSES.map(([reason, field]) => ({ labels: { transport, reason }, value: r[field] }))),
  });
  registerCollected(registry, {
    name: 'sipwarden_connection_write_queue_bytes',
    help: 'Bytes waiting in the process to be written, over all connections of a transport.',
    type: 'gauge',
    samples: perStream((transport, r) => [{ labels: { transport }, value: r.queuedBytes }]),
  });
  registerCollected(registry, {
    name: 'sipwarden_sip_cache_entries',
    help: "Entries of the proxy's bounded caches: local replies (retransmissions), flow tokens, RFC 5626 instance flows.",
    type: 'gauge',
    samples: () => cacheSamples(proxy(), 'entries'),
  });
  registerCollected(registry, {
    name: 'sipwarden_sip_cache_bytes',
    help: "Bytes held by the proxy's bounded caches.",
    type: 'gauge',
    samples: () => cacheSamples(proxy(), 'bytes'),
  });
}

function cacheSamples(proxy: EmbeddedProxy | null, field: 'entries' | 'bytes'): Sample[] {
  if (proxy === null) return [];
  const c = proxy.caches();
  return [
    { labels: { cache: 'replies' }, value: c.replyCache[field] },
    { labels: { cache: 'flow_tokens' }, value: c.flowTokens[field] },
    { labels: { cache: 'instance_flows' }, value: c.instanceFlows[field] },
  ];
}
