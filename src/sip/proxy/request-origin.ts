import { sameFlow, type Flow } from '../transports/flow.js';
import { bindsDialog, type FlowTokens } from './flow-token.js';
import type { InstanceFlows } from './instance-flows.js';
import type { RoutePlan } from './route-plan.js';
import type { SipMessage } from '../message/sip-message.js';

/** How a received request came, as far as the proxy can prove it. */
export interface RequestOrigin {
  /**
   * `from-upstream`: routed to a client by the upstream — it carries one of our flow tokens naming
   * another flow than the one it came on, or it came on a connection the proxy opened to the
   * upstream. `from-client`: anything else, whatever its source address claims.
   */
  readonly direction: 'from-client' | 'from-upstream';
  /** The client flow a token sends it to; null when it goes by Route/Request-URI or to the upstream. */
  readonly clientFlow: Flow | null;
  /** Where the client of `clientFlow` registered since, when its dialog token names its instance. */
  readonly movedTo: Flow | null;
  /** It has a To tag and a dialog token of ours bound to its dialog: a dialog this proxy routed. */
  readonly inDialog: boolean;
}

/** How the request reached the proxy: its flow, and whether on a connection the proxy opened. */
export interface Arrival {
  readonly source: Flow;
  /** True only for a TCP connection this proxy dialled (never for UDP, WebSocket or accepted TCP). */
  readonly dialed: boolean;
}

const FROM_CLIENT: RequestOrigin = Object.freeze({ direction: 'from-client', clientFlow: null, movedTo: null, inDialog: false });

/**
 * Decides where a request comes from without trusting any claimed address (issue 7 items 7, 8).
 *
 * - A UDP source address is anybody's to claim, and a TCP connection from the upstream's host may
 *   be any process there: neither proves the upstream. What does: a connection the proxy opened to
 *   the upstream's address and port itself, or a flow token of ours (sealed, see flow-token.ts) in
 *   the Route values addressed to us (RFC 3327 §5.3 Path, RFC 3261 §16.4 Record-Route), which only
 *   the registrar and the parties of a dialog we routed ever see.
 * - A token naming the very flow the request came on is that client's own request (RFC 5626 §5.3);
 *   so is one whose instance has registered on that flow since (a client that reconnected).
 * - A dialog token counts only in a request of its dialog (To tag, same Call-ID, the caller's
 *   tag): a token copied into another request proves nothing, and an initial request (no To tag)
 *   never carries one legitimately.
 *
 * Cheap on the REGISTER path: a request without Route values to us opens no token.
 */
export function requestOrigin(
  request: SipMessage,
  plan: RoutePlan,
  arrival: Arrival,
  upstream: Flow,
  tokens: FlowTokens,
  instances: InstanceFlows,
): RequestOrigin {
  const source = arrival.source;
  for (const token of plan.tokens) {
    const claim = tokens.open(token);
    if (claim === null) continue;
    let inDialog = false;
    if (claim.kind === 'dialog') {
      const toTag = request.toTag;
      if (toTag === null || !bindsDialog(claim, request.callId, request.fromTag, toTag)) continue;
      inDialog = true;
    }
    const movedTo = claim.instance === null ? null : (instances.current(claim.instance) ?? null);
    if (sameFlow(claim.flow, source) || (movedTo !== null && sameFlow(movedTo, source))) {
      return inDialog ? { direction: 'from-client', clientFlow: null, movedTo: null, inDialog } : FROM_CLIENT;
    }
    return { direction: 'from-upstream', clientFlow: claim.flow, movedTo, inDialog };
  }
  if (arrival.dialed && sameFlow(source, upstream)) return { direction: 'from-upstream', clientFlow: null, movedTo: null, inDialog: false };
  return FROM_CLIENT;
}
