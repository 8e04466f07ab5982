import type { TransportName } from '../transports/flow.js';
import { HeaderId } from '../message/header-names.js';
import { MessageEditor } from '../message/message-editor.js';
import type { RoutePlan } from './route-plan.js';
import { HEADER_STRIDE, type SipMessage } from '../message/sip-message.js';
import { formatHost } from '../message/uri.js';

/** The Via the proxy adds (RFC 3261 §16.6 step 8). */
export interface OwnVia {
  readonly transport: TransportName;
  readonly host: string;
  readonly port: number;
  readonly branch: string;
}

export interface ForwardRequestEdits {
  readonly plan: RoutePlan;
  readonly via: OwnVia;
  /** New text of the incoming top Via (received/rport), or null to leave it. */
  readonly stampedTopVia: string | null;
  /** Record-Route values to add, top first (already formatted `<sip:...;lr>`). */
  readonly recordRoute: readonly string[];
  /** Path value to add to a REGISTER (RFC 3327), or null. */
  readonly path: string | null;
  /** Max-Forwards added when absent, and the cap of a decremented one; default 70 and none. */
  readonly maxForwards?: MaxForwardsPolicy;
}

/** The value added to a request without Max-Forwards, and the most a forwarded one may carry (Kamailio maxfwd `max_limit`). */
export interface MaxForwardsPolicy {
  readonly initial: number;
  readonly limit: number;
}

/** RFC 3261 §16.6 step 3: the value a proxy adds when a request has no Max-Forwards. */
export const DEFAULT_MAX_FORWARDS = 70;

const UNCAPPED: MaxForwardsPolicy = Object.freeze({ initial: DEFAULT_MAX_FORWARDS, limit: Number.MAX_SAFE_INTEGER });

/** The Max-Forwards a request is forwarded with (RFC 3261 §16.6 step 3), given what it came with. */
export function forwardedMaxForwards(received: number | null, policy: MaxForwardsPolicy = UNCAPPED): number {
  if (received === null || Number.isNaN(received)) return policy.initial;
  return Math.min(Math.max(0, received - 1), policy.limit);
}

/**
 * The request as forwarded (RFC 3261 §16.6): Request-URI restored after a strict router, our
 * Route values removed (§16.4), Max-Forwards decremented or added, the incoming top Via stamped,
 * our Via on top, Record-Route and Path added above any existing ones, and a Content-Length when
 * the request came without (it is mandatory on streams, §18.3). Everything else is copied as is.
 */
export function buildForwardedRequest(request: SipMessage, edits: ForwardRequestEdits): Buffer {
  const { layout } = request;
  const editor = new MessageEditor(request.buf);
  if (edits.plan.requestUri !== null) editor.replace(layout.uriStart, layout.uriEnd, edits.plan.requestUri);
  for (const [start, end] of edits.plan.removals) editor.remove(start, end);

  const h = layout.headers;
  const maxForwards = request.maxForwards;
  const mfIndex = layout.first[HeaderId.MAX_FORWARDS] ?? -1;
  const value = forwardedMaxForwards(mfIndex < 0 ? null : maxForwards, edits.maxForwards);
  if (maxForwards === null || mfIndex < 0 || Number.isNaN(maxForwards)) {
    editor.insert(layout.headersEnd, `Max-Forwards: ${value}\r\n`);
  } else {
    const at = mfIndex * HEADER_STRIDE;
    editor.replace(h[at + 2] ?? 0, h[at + 3] ?? 0, String(value));
  }

  const top = request.topVia;
  if (top !== null && edits.stampedTopVia !== null) editor.replace(top.start, top.end, edits.stampedTopVia);
  const viaLine = lineStartOf(request, HeaderId.VIA) ?? layout.headersEnd;
  const v = edits.via;
  editor.insert(viaLine, `Via: SIP/2.0/${v.transport.toUpperCase()} ${formatHost(v.host)}:${v.port};branch=${v.branch}\r\n`);

  if (edits.recordRoute.length > 0) {
    const at = lineStartOf(request, HeaderId.RECORD_ROUTE) ?? viaLine;
    for (const value of edits.recordRoute) editor.insert(at, `Record-Route: ${value}\r\n`);
  }
  if (edits.path !== null) editor.insert(lineStartOf(request, HeaderId.PATH) ?? viaLine, `Path: ${edits.path}\r\n`);
  if ((layout.first[HeaderId.CONTENT_LENGTH] ?? -1) < 0) {
    editor.insert(layout.headersEnd, `Content-Length: ${request.buf.length - layout.bodyStart}\r\n`);
  }
  return editor.toBuffer();
}

/**
 * A URI the proxy puts in Record-Route or Path: `<sip:[token@]host:port;transport=x;lr>`. WSS is
 * written `transport=ws`, the one value RFC 7118 §5.2 defines (as Kamailio writes it); TLS as
 * `transport=tls` with the `sip:` scheme, which Kamailio writes and every peer reads (RFC 5630
 * deprecates it in favour of `sips:`, which would claim TLS on every hop beyond us too).
 */
export function proxyUri(host: string, port: number, transport: TransportName, token: string | null): string {
  return `<sip:${token === null ? '' : `${token}@`}${formatHost(host)}:${port};transport=${transport === 'wss' ? 'ws' : transport};lr>`;
}

function lineStartOf(request: SipMessage, id: HeaderId): number | null {
  const index = request.layout.first[id] ?? -1;
  return index < 0 ? null : (request.layout.headers[index * HEADER_STRIDE + 1] ?? null);
}
