import { pino, type Logger } from 'pino';
import { localToTag, LOCAL_TAG_PREFIX, BRANCH_PREFIX, statelessBranch } from './branch.js';
import { randomBytes } from 'node:crypto';
import { flowText, isByteStream, type Flow, type TransportName } from '../transports/flow.js';
import { FlowTokens } from './flow-token.js';
import { clientTarget } from './client-target.js';
import { buildForwardedRequest, proxyUri, type MaxForwardsPolicy } from './forward-request.js';
import { isGated, type Gate, type GateContext, type Verdict } from './gate.js';
import type { LocalAddresses } from './local-addresses.js';
import { buildLocalReply, type ExtraHeader } from '../message/local-reply.js';
import { maxOutgoingSize } from '../transports/message-size.js';
import { hopFromUri, hopFromVia, resolveHop, type HopTarget } from './next-hop.js';
import type { OverloadControl } from './overload-control.js';
import { MAX_MESSAGE_SIZE, parseMessage, type ParseResult } from '../message/parse-message.js';
import { addsPath, type PathMode } from './path-mode.js';
import { emptyStats, type ProxyStats } from './proxy-stats.js';
import type { CacheBounds } from './bounded-cache.js';
import { RecentKeys } from './recent-keys.js';
import { ReplyCache } from './reply-cache.js';
import { Resolver } from './resolver.js';
import { InstanceFlows } from './instance-flows.js';
import { requestOrigin, type Arrival, type RequestOrigin } from './request-origin.js';
import { planRoute, type RoutePlan } from './route-plan.js';
import type { SheddingLog } from './shedding-log.js';
import type { SipMessage } from '../message/sip-message.js';
import { cutBytes, topViaRemoval } from '../message/top-via-removal.js';
import { parseUri, type SipUri } from '../message/uri.js';
import { defaultPort, stampVia, type Via } from '../message/via.js';

/**
 * Requests let past load shedding are remembered for at least this many newer ones or this long
 * (at 4,000/s about 8 s; RFC 3261 §17.1.1.2: a client retransmits at 0.5, 1.5, 3.5, 7.5 s …).
 */
const ADMITTED_PER_GENERATION = 32_768;
const ADMITTED_MAX_AGE_MS = 16_000;

/** Sends bytes to a flow; false when it could not (see Transport.send). */
export interface ProxyIo {
  send(target: Flow, data: Buffer): boolean;
  /** Whether a stream connection to `flow` is open (UDP: always). Default: always. */
  connected?(flow: Flow): boolean;
}

/** How the proxy is reached on one transport: written into its Via, Record-Route and Path. */
export interface ProxyListener {
  readonly transport: TransportName;
  readonly host: string;
  readonly port: number;
}

export interface ProxyOptions {
  readonly io: ProxyIo;
  /** One per transport served; the host is the advertised one. */
  readonly listeners: readonly ProxyListener[];
  /** Every host:port that means this proxy. */
  readonly localAddresses: LocalAddresses;
  /** The SIP server behind the proxy, resolved to an IP address. */
  readonly upstream: Flow;
  readonly gate?: Gate;
  readonly logger?: Logger;
  /** When to add a Path (RFC 3327) to REGISTERs from clients so the registrar routes calls back through us. Default `always`. */
  readonly path?: PathMode;
  /** Initial requests that get a Record-Route. Default INVITE, SUBSCRIBE, REFER. */
  readonly recordRouteMethods?: readonly string[];
  /** Always fill in rport on UDP too (Kamailio's force_rport). Stream transports always get it. */
  readonly forceRport?: boolean;
  /** Seals the flow tokens of Path and Record-Route; default a random key (tokens die with the process). */
  readonly flowTokens?: FlowTokens;
  readonly resolver?: Resolver;
  /** Bounds of the cache of local replies; default 8,192 entries, 4 MiB, 32 s (RFC 3261 64*T1). */
  readonly replyCache?: CacheBounds;
  /** Load shedding: when and how often to refuse new requests with 503; none by default. */
  readonly overload?: { readonly control: OverloadControl; readonly log: SheddingLog };
  /** Max-Forwards added when absent (default 70) and the cap of forwarded values (default none). */
  readonly maxForwards?: MaxForwardsPolicy;
  /** Larger received messages are refused (requests 513, the rest dropped); default MAX_MESSAGE_SIZE. */
  readonly maxMessageSize?: number;
  /**
   * Why the sidecar is not ready (e.g. "upstream not answering OPTIONS"), or null when it is: an
   * OPTIONS addressed to the proxy itself is answered 503 then. Default: always ready.
   */
  readonly notReady?: () => string | null;
}

/** What the proxy's caches hold right now. */
export interface CacheReport {
  readonly replyCache: { readonly entries: number; readonly bytes: number };
  readonly flowTokens: { readonly entries: number; readonly bytes: number };
  readonly instanceFlows: { readonly entries: number; readonly bytes: number };
}

export interface Proxy {
  /**
   * Handles one received message. `dialed`: it came on a TCP connection this proxy opened (the
   * only transport fact that proves the upstream, see request-origin.ts). Never throws.
   */
  handle(data: Buffer, source: Flow, dialed?: boolean): void;
  readonly stats: Readonly<ProxyStats>;
  caches(): CacheReport;
}


/**
 * The stateless proxy core (RFC 3261 §16.11): requests are validated, route-preprocessed (§16.4),
 * optionally put to the gate, and forwarded with our Via and a deterministic branch; responses
 * lose our Via and go back to the next one (§16.7, §18.2.2). No transaction state is kept but a
 * bounded cache of the replies the proxy generated itself, so retransmissions get them again.
 *
 *   request ─► parse ─► ACK of our reply? absorb ─► our reply cached? resend
 *          ─► Max-Forwards 0? 483 ─► §16.4 routes ─► origin (flow token │ own connection │ client)
 *          ─► gate (REGISTER, INVITE not in a dialog we routed)
 *          ─► reply │ forward: next hop = flow token │ upstream │ (from the upstream) Route/Request-URI
 *   response ─► top Via ours? ─► remove it ─► send to next Via (received/rport)
 */
export function createProxy(options: ProxyOptions): Proxy {
  return new StatelessProxy(options);
}

class StatelessProxy implements Proxy {
  readonly stats: ProxyStats = emptyStats();
  readonly #io: ProxyIo;
  readonly #listeners = new Map<TransportName, ProxyListener>();
  readonly #local: LocalAddresses;
  readonly #upstream: Flow;
  readonly #gate: Gate | undefined;
  readonly #log: Logger;
  readonly #path: PathMode;
  readonly #recordRoute: ReadonlySet<string>;
  readonly #forceRport: boolean;
  readonly #tokens: FlowTokens;
  readonly #instances = new InstanceFlows();
  readonly #resolver: Resolver;
  readonly #replies: ReplyCache;
  readonly #maxForwards: MaxForwardsPolicy | undefined;
  readonly #maxMessageSize: number;
  readonly #notReady: () => string | null;
  readonly #connected = (flow: Flow): boolean => this.#io.connected?.(flow) ?? true;
  readonly #overload: { readonly control: OverloadControl; readonly log: SheddingLog } | null;
  /** New requests let past load shedding lately, by stateless branch: their retransmissions are never shed. */
  readonly #admitted = new RecentKeys(ADMITTED_PER_GENERATION, ADMITTED_MAX_AGE_MS);
  readonly #isLocalUri = (uri: SipUri): boolean =>
    (uri.scheme === 'sip' || uri.scheme === 'sips') && this.#local.has(uri.host, uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060));

  constructor(options: ProxyOptions) {
    this.#io = options.io;
    for (const l of options.listeners) this.#listeners.set(l.transport, l);
    this.#local = options.localAddresses;
    this.#upstream = options.upstream;
    this.#gate = options.gate;
    this.#log = options.logger ?? pino({ enabled: false });
    this.#path = options.path ?? 'always';
    this.#recordRoute = new Set((options.recordRouteMethods ?? ['INVITE', 'SUBSCRIBE', 'REFER']).map((m) => m.toUpperCase()));
    this.#forceRport = options.forceRport ?? false;
    this.#tokens = options.flowTokens ?? new FlowTokens(randomBytes(32));
    this.#resolver = options.resolver ?? new Resolver();
    this.#replies = new ReplyCache(options.replyCache);
    this.#overload = options.overload ?? null;
    this.#maxForwards = options.maxForwards;
    this.#maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
    this.#notReady = options.notReady ?? (() => null);
  }

  caches(): CacheReport {
    return { replyCache: { entries: this.#replies.size, bytes: this.#replies.bytes }, flowTokens: this.#tokens.cached(), instanceFlows: this.#instances.cached() };
  }

  handle(data: Buffer, source: Flow, dialed = false): void {
    this.stats.received++;
    let parsed: ParseResult | undefined;
    try {
      parsed = parseMessage(data, { stream: isByteStream(source.transport) });
      if (data.length > this.#maxMessageSize) {
        this.#oversized(parsed, data.length, source);
      } else if (!parsed.ok) {
        this.#invalid(parsed, source);
      } else if (parsed.message.isRequest) {
        this.#request(parsed.message, { source, dialed });
      } else {
        this.#response(parsed.message, source);
      }
    } catch (err) {
      this.stats.dropped++;
      this.stats.handlerErrors++;
      const callId = parsed?.message?.callId ?? null;
      this.#log.error({ err, callId, source: flowText(source) }, 'SIP message handler failed; message dropped');
    }
  }

  #invalid(parsed: Extract<ParseResult, { ok: false }>, source: Flow): void {
    const m = parsed.message;
    if (m !== null && m.isRequest && m.method !== 'ACK' && m.topVia !== null) {
      this.stats.badRequests++;
      this.#debug({ problem: parsed.problem, method: m.method, callId: m.callId, source }, 'bad request answered 400');
      const host = this.#listeners.get(source.transport)?.host ?? 'sipwarden';
      this.#reply(m, source, 400, 'Bad Request', [['Warning', `399 ${host} "${parsed.problem}"`]]);
      return;
    }
    this.stats.dropped++;
    this.stats.malformed++;
    if (parsed.problem !== 'empty') this.#debug({ problem: parsed.problem, source }, 'malformed SIP message dropped');
  }

  /**
   * A message over `sip.maxMessageSize`: a request that can be answered gets 513 Message Too
   * Large (RFC 3261 §21.5.7), anything else is dropped, as Kamailio drops what exceeds its buffer.
   */
  #oversized(parsed: ParseResult, size: number, source: Flow): void {
    this.stats.oversized++;
    const m = parsed.message;
    if (m !== null && m.isRequest && m.method !== 'ACK' && m.topVia !== null) {
      this.#debug({ method: m.method, callId: m.callId, source, size }, 'request over sip.maxMessageSize; answered 513');
      this.#reply(m, source, 513, 'Message Too Large');
      return;
    }
    this.stats.dropped++;
    this.#debug({ size, source }, 'message over sip.maxMessageSize dropped');
  }

  #request(m: SipMessage, arrival: Arrival): void {
    const method = m.method;
    const source = arrival.source;
    const branch = statelessBranch(m, source);
    if (method === 'ACK') {
      const tag = m.toTag;
      // The ACK of a local reply: our To tag, or (a request that came with a To tag of its own)
      // the INVITE's branch, which an ACK of a non-2xx reply reuses (RFC 3261 §17.1.1.3).
      const ours = tag !== null && tag.startsWith(LOCAL_TAG_PREFIX) && tag === localToTag(m);
      if (ours || (this.#replies.size > 0 && this.#replies.get(`${branch} INVITE`, Date.now()) !== undefined)) {
        this.stats.acksAbsorbed++;
        this.#debug({ callId: m.callId, source }, 'ACK of a local reply absorbed');
        return;
      }
    }
    // The cache is empty unless the proxy replied itself lately (a refusal): then there is nothing to look up.
    if (this.#replies.size > 0 && (method === 'INVITE' || method === 'REGISTER' || method === 'CANCEL')) {
      const cached = this.#replies.get(`${branch} ${method === 'CANCEL' ? 'INVITE' : method}`, Date.now());
      if (cached !== undefined) {
        this.stats.retransmittedReplies++;
        if (method === 'CANCEL') {
          // RFC 3261 §9.2: a CANCEL of a request already answered finally is itself answered 200.
          this.#reply(m, source, 200, 'OK');
        } else {
          this.#sendReply(cached, m, source);
        }
        return;
      }
    }
    if (m.maxForwards === 0) {
      this.stats.tooManyHops++;
      // RFC 3261 §16.3 step 3; an ACK cannot be answered.
      if (method === 'ACK') this.#drop('ACK with Max-Forwards 0', m, source);
      else this.#reply(m, source, 483, 'Too Many Hops');
      return;
    }
    const plan = planRoute(m, this.#isLocalUri);
    if (method === 'OPTIONS' && plan.nextRoute === null && plan.requestUri === null && this.#isForUs(m)) {
      this.#ownOptions(m, source);
      return;
    }
    const origin = requestOrigin(m, plan, arrival, this.#upstream, this.#tokens, this.#instances);
    // Overloaded: refuse new work before the gate, the costly part. Only what cannot belong to a
    // dialog (no To tag) and what a client sent is refused, never what the upstream routed to us.
    const overload = this.#overload;
    const newWork = method === 'REGISTER' || (method === 'INVITE' && m.toTag === null);
    if (overload !== null && newWork && origin.direction === 'from-client') {
      // A retransmission of a request let through is let through again: a stateless proxy
      // decides it as it decided the original (RFC 3261 §16.11). Shedding it would answer 503
      // to an INVITE the callee has already answered 200 (seen in bench:sip past capacity).
      const key = `${branch} ${method}`;
      if (overload.control.shed() && !this.#admitted.has(key)) {
        this.#shed(m, source, overload.control, overload.log);
        return;
      }
      this.#admitted.add(key);
    }
    const gate = this.#gate;
    // Only a request of a dialog this proxy routed skips the initial-request checks: an INVITE
    // with a To tag of its own making is put to the gate like any initial INVITE (issue 7 item 7).
    if (gate !== undefined && isGated(method, origin.inDialog)) {
      this.stats.gateCalls++;
      const context: GateContext = { transport: source.transport, source, direction: origin.direction, clientFlow: origin.clientFlow };
      let result: Verdict | PromiseLike<Verdict>;
      try {
        result = gate(m, context);
      } catch (err) {
        this.#gateFailed(err, m, source);
        return;
      }
      if (isThenable(result)) {
        result.then(
          (r) => this.#guarded(m, source, () => this.#decided(m, source, branch, plan, origin, r)),
          (err: unknown) => this.#gateFailed(err, m, source),
        );
        return;
      }
      this.#decided(m, source, branch, plan, origin, result);
      return;
    }
    this.#forward(m, source, branch, plan, origin);
  }

  #decided(m: SipMessage, source: Flow, branch: string, plan: RoutePlan, origin: RequestOrigin, result: Verdict): void {
    if (result.action === 'forward') {
      this.#forward(m, source, branch, plan, origin);
    } else if (result.action === 'reply' && Number.isInteger(result.status) && result.status >= 200 && result.status <= 699) {
      const reply = this.#reply(m, source, result.status, result.reason, result.headers);
      this.#replies.set(`${branch} ${m.method}`, reply, Date.now());
    } else {
      this.#gateFailed(new Error(`gate returned an unusable result: ${JSON.stringify(result)}`), m, source);
    }
  }

  #forward(m: SipMessage, source: Flow, branch: string, plan: RoutePlan, origin: RequestOrigin): void {
    const target = this.#nextHop(m, source, plan, origin);
    if (target === null) return;
    if ('address' in target) {
      this.#sendRequest(m, source, branch, plan, origin, target);
      return;
    }
    const resolved = resolveHop(target, this.#resolver);
    if (!isThenable(resolved)) {
      this.#sendRequest(m, source, branch, plan, origin, resolved);
      return;
    }
    resolved.then(
      (flow) => this.#guarded(m, source, () => this.#sendRequest(m, source, branch, plan, origin, flow)),
      (err: unknown) => this.#drop(`cannot resolve ${target.host}: ${String(err)}`, m, source),
    );
  }

  /** The next hop of a request (RFC 3261 §16.5, §16.6 steps 6-7, RFC 5626 §5.3 for flow tokens). */
  #nextHop(m: SipMessage, source: Flow, plan: RoutePlan, origin: RequestOrigin): Flow | HopTarget | null {
    if (origin.clientFlow !== null) return clientTarget(origin.clientFlow, plan.requestUri ?? m.requestUri, this.#connected, origin.movedTo);
    // A client's request always goes to the upstream, even when a Route value below ours names
    // another host: the sidecar guards one SIP server and must not relay clients' requests around
    // it (no open relay). The Route stays in the request for the upstream to follow (§16.6 step 6).
    if (origin.direction === 'from-client') return this.#upstream;
    const uriText = plan.nextRoute ?? plan.requestUri ?? m.requestUri;
    const hop = hopFromUri(uriText);
    if (hop === null) {
      this.#drop(`cannot route to ${uriText}`, m, source);
      return null;
    }
    if (this.#local.has(hop.host, hop.port)) {
      this.#drop('next hop is this proxy (loop)', m, source);
      return null;
    }
    return hop;
  }

  #sendRequest(m: SipMessage, source: Flow, branch: string, plan: RoutePlan, origin: RequestOrigin, target: Flow): void {
    const out = this.#listeners.get(target.transport);
    if (out === undefined) {
      this.#drop(`no ${target.transport} transport for the next hop`, m, source);
      return;
    }
    const top = m.topVia;
    // A Via `alias` (RFC 5923) is not honoured: it is defined for TLS, where the peer's
    // certificate proves the address it claims; on TCP and WebSocket nothing does, and aliasing a
    // connection to a claimed address let any client take another's responses and requests.
    const stream = source.transport !== 'udp';
    const stamped = top === null ? null : stampVia(top, source.address, source.port, stream || this.#forceRport);
    const initial = m.toTag === null;
    const fromUpstream = origin.direction === 'from-upstream';
    const clientFlow = fromUpstream ? target : source;
    const recordRoute = initial && this.#recordRoute.has(m.method) ? this.#recordRouteValues(m, source, target, clientFlow) : [];
    const path = m.method === 'REGISTER' && !fromUpstream && addsPath(this.#path, m) ? proxyUri(out.host, out.port, out.transport, this.#tokens.forRegistration(source)) : null;
    const data = buildForwardedRequest(m, {
      plan,
      via: { transport: out.transport, host: out.host, port: out.port, branch },
      stampedTopVia: stamped,
      recordRoute,
      path,
      ...(this.#maxForwards === undefined ? {} : { maxForwards: this.#maxForwards }),
    });
    if (data.length > maxOutgoingSize(target.transport)) {
      this.#tooLarge(m, source, data.length, target);
      return;
    }
    if (!this.#io.send(target, data)) {
      this.#drop(`cannot send to ${target.transport}:${target.address}:${target.port}`, m, source);
      return;
    }
    this.stats.requestsForwarded++;
    if (this.#maxForwards !== undefined && (m.maxForwards ?? 0) - 1 > this.#maxForwards.limit) this.stats.maxForwardsCapped++;
    if (path !== null && source.transport !== 'udp') {
      // A stream client's instance is learned when the registrar accepts it (instance-flows.ts).
      const instance = m.contacts.bindings[0]?.instance;
      if (instance) this.#instances.registering(branch, source, instance);
    }
    this.#debug({ method: m.method, callId: m.callId, source, target }, 'request forwarded');
  }

  /**
   * Record-Route for both sides when the transport changes (RFC 5658 "double Record-Route"), the
   * one facing the next hop on top; the entry facing the client carries its flow token, bound to
   * this dialog (Call-ID and the caller's From tag).
   */
  #recordRouteValues(m: SipMessage, source: Flow, target: Flow, clientFlow: Flow): string[] {
    const token = this.#tokens.forDialog(clientFlow, m.callId ?? '', m.fromTag, this.#instances.instanceOf(clientFlow));
    const outgoing = this.#listeners.get(target.transport);
    const incoming = this.#listeners.get(source.transport);
    if (outgoing === undefined || incoming === undefined) return [];
    const clientIsTarget = clientFlow === target;
    if (outgoing === incoming) return [proxyUri(outgoing.host, outgoing.port, outgoing.transport, token)];
    return [
      proxyUri(outgoing.host, outgoing.port, outgoing.transport, clientIsTarget ? token : null),
      proxyUri(incoming.host, incoming.port, incoming.transport, clientIsTarget ? null : token),
    ];
  }

  #response(m: SipMessage, source: Flow): void {
    // Only the top two Via values matter: ours, to cut, and the next, to send to (RFC 3261 §16.7).
    const top = m.topVia;
    if (top === null || !this.#isOurVia(top)) {
      this.#drop('response whose top Via is not ours', m, source);
      return;
    }
    const removal = topViaRemoval(m);
    const next = removal === null ? null : removal.next;
    const hop = next === null ? null : hopFromVia(next);
    if (removal === null || hop === null) {
      this.#drop('response without a usable second Via', m, source);
      return;
    }
    const data = cutBytes(m.buf, removal.start, removal.end);
    if (m.status >= 200 && m.status < 300 && top.branch !== null) this.#instances.accepted(top.branch);
    const resolved = resolveHop(hop, this.#resolver);
    if (!isThenable(resolved)) {
      this.#sendResponse(data, m, source, resolved);
      return;
    }
    resolved.then(
      (flow) => this.#guarded(m, source, () => this.#sendResponse(data, m, source, flow)),
      (err: unknown) => this.#drop(`cannot resolve ${hop.host}: ${String(err)}`, m, source),
    );
  }

  #sendResponse(data: Buffer, m: SipMessage, source: Flow, target: Flow): void {
    if (data.length > maxOutgoingSize(target.transport)) {
      this.stats.tooLarge++;
      this.#drop(`response of ${data.length} bytes too large for ${target.transport}`, m, source);
      return;
    }
    if (!this.#io.send(target, data)) {
      this.#drop(`cannot send to ${target.transport}:${target.address}:${target.port}`, m, source);
      return;
    }
    this.stats.responsesForwarded++;
    this.#debug({ status: m.status, callId: m.callId, source, target }, 'response forwarded');
  }

  /** A reply generated here (RFC 3261 §8.2.6), sent back the way a response would go (§18.2.2). */
  #reply(m: SipMessage, source: Flow, status: number, reason: string, headers?: readonly ExtraHeader[]): Buffer {
    const top = m.topVia;
    const stream = source.transport !== 'udp';
    const stamped = top === null ? null : stampVia(top, source.address, source.port, stream || this.#forceRport);
    const reply = buildLocalReply(m, { status, reason, toTag: localToTag(m), topVia: stamped, headers: headers ?? [] });
    this.stats.localReplies++;
    this.#debug({ status, method: m.method, callId: m.callId, source }, 'local reply');
    this.#sendReply(reply, m, source);
    return reply;
  }

  #sendReply(reply: Buffer, m: SipMessage, source: Flow): void {
    const top = m.topVia;
    // Streams answer on the connection the request came on; UDP goes to received and to rport if
    // asked for, else to the sent-by port (RFC 3261 §18.2.2, RFC 3581 §4).
    const port = source.transport !== 'udp' || top === null || top.hasRport || this.#forceRport ? source.port : (top.port ?? 5060);
    const target = port === source.port ? source : { transport: source.transport, address: source.address, port };
    if (reply.length > maxOutgoingSize(target.transport) || !this.#io.send(target, reply)) this.#drop('cannot send a local reply', m, source);
  }

  /**
   * A request that our Via, Path and Record-Route make too large for the next hop's transport:
   * RFC 3261 §21.5.7 513 rather than a send that fails out of sight; an ACK cannot be answered.
   */
  #tooLarge(m: SipMessage, source: Flow, size: number, target: Flow): void {
    this.stats.tooLarge++;
    const why = `request of ${size} bytes once forwarded, over the ${maxOutgoingSize(target.transport)} bytes ${target.transport} carries`;
    if (m.method === 'ACK') {
      this.#drop(why, m, source);
      return;
    }
    this.#debug({ method: m.method, callId: m.callId, source, size }, 'request too large for the next hop; answered 513');
    this.#reply(m, source, 513, 'Message Too Large');
  }

  /**
   * A health check of the sidecar itself, answered here as Kamailio answers `uri==myself &&
   * $rU==$null`: 200 with Allow when ready, else 503 with a Warning saying what is not (RFC 3261
   * §21.5.4), so a load balancer's probe takes a sidecar whose SIP server is down out of service.
   */
  #ownOptions(m: SipMessage, source: Flow): void {
    const notReady = this.#notReady();
    if (notReady === null) {
      this.stats.ownOptionsReady++;
      this.#reply(m, source, 200, 'OK', [['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, MESSAGE, NOTIFY, REFER, SUBSCRIBE, UPDATE, PRACK']]);
      return;
    }
    this.stats.ownOptionsNotReady++;
    const host = this.#listeners.get(source.transport)?.host ?? 'sipwarden';
    this.#reply(m, source, 503, 'Service Unavailable', [['Warning', `399 ${host} "not ready: ${notReady.replaceAll('"', "'")}"`]]);
  }

  /**
   * An OPTIONS is the sidecar's own only when nothing routes it further: no Route left after ours
   * (RFC 3261 §16.4), a Request-URI without a user part, naming one of our own addresses (the
   * port 5060 when absent, 5061 for sips). With a user part (sip:1001@sidecar), another host, or a
   * Route beyond ours, it is meant for the SIP server (or a client) and is forwarded like any
   * request, so a probe through the sidecar learns whether that server answers.
   */
  #isForUs(m: SipMessage): boolean {
    const uri = parseUri(m.requestUri);
    return uri !== null && uri.user === null && this.#isLocalUri(uri);
  }

  #isOurVia(via: Via): boolean {
    return via.branch !== null && via.branch.startsWith(BRANCH_PREFIX) && this.#local.has(via.host, via.port ?? defaultPort(via.transport));
  }

  /**
   * Load shedding (RFC 3261 §21.5.4, RFC 7339 §1): 503 with a random Retry-After to a new
   * REGISTER or initial INVITE from a client — never to what belongs to work already accepted
   * (in-dialog requests, ACK, CANCEL, BYE, responses), and never to what the upstream routed to
   * a client (proven by its flow token, not by a source address anybody can claim). The reply is not
   * cached: a retransmission of a shed request is decided afresh, by then perhaps accepted (one of a
   * request let through is always let through again). Not logged one by one.
   */
  #shed(m: SipMessage, source: Flow, control: OverloadControl, log: SheddingLog): void {
    this.stats.shed++;
    log.shed(control.report());
    this.#reply(m, source, 503, 'Service Unavailable', [
      ['Retry-After', String(control.retryAfter())],
      ['X-Sipwarden-Reason', 'overload'],
    ]);
  }

  #gateFailed(err: unknown, m: SipMessage, source: Flow): void {
    this.stats.dropped++;
    this.#log.error({ err, method: m.method, callId: m.callId, source: flowText(source) }, 'gate failed; request dropped');
  }

  #guarded(m: SipMessage, source: Flow, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.stats.dropped++;
      this.stats.handlerErrors++;
      this.#log.error({ err, callId: m.callId, source: flowText(source) }, 'SIP message handler failed; message dropped');
    }
  }

  #drop(why: string, m: SipMessage, source: Flow): void {
    this.stats.dropped++;
    this.#debug({ why, method: m.method || undefined, status: m.status || undefined, callId: m.callId, source }, 'SIP message dropped');
  }

  /** Flows are written as text (`flowText`), the one shape of `source` in every line; only when debug is on. */
  #debug(fields: Record<string, unknown>, message: string): void {
    if (!this.#log.isLevelEnabled('debug')) return;
    for (const key of ['source', 'target'] as const) {
      const flow = fields[key];
      if (isFlow(flow)) fields[key] = flowText(flow);
    }
    this.#log.debug(fields, message);
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function isFlow(value: unknown): value is Flow {
  return typeof value === 'object' && value !== null && 'transport' in value && 'address' in value && 'port' in value;
}
