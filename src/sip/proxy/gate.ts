import type { ExtraHeader } from '../message/local-reply.js';
import type { Flow, TransportName } from '../transports/flow.js';
import type { SipMessage } from '../message/sip-message.js';

/** A request answered here instead of forwarded: a policy refusal (403) or our own trouble (503). */
export interface Reply {
  readonly action: 'reply';
  readonly status: number;
  readonly reason: string;
  /** Extra headers of the reply, e.g. `Warning` and `X-Sipwarden-Reason` (DESIGN.md §2). */
  readonly headers: readonly ExtraHeader[];
}

/**
 * What enforcement decided for one request, the one result type of the gate, the enforcer and
 * the drachtio middleware: forward it, or answer it.
 */
export type Verdict = { readonly action: 'forward' } | Reply;

/** Where a request came from, for the gate's decision and its log line. */
export interface GateContext {
  readonly transport: TransportName;
  /** The remote address and port the request came from (the flow). */
  readonly source: Flow;
  /** From the configured upstream (e.g. a call from a door panel registered there) or from a client. */
  readonly direction: 'from-client' | 'from-upstream';
  /** From the upstream: the client flow its flow token sends it to; null otherwise. */
  readonly clientFlow: Flow | null;
}

/**
 * Asked for every REGISTER and every initial INVITE (no To tag); everything else is relayed
 * without asking. Return a plain value when the answer is known at once: the proxy then stays
 * synchronous and allocates no Promise. A throwing or rejecting gate drops the request (the client
 * retransmits) and is logged.
 */
export type Gate = (request: SipMessage, context: GateContext) => Verdict | PromiseLike<Verdict>;

export const FORWARD: Verdict = Object.freeze({ action: 'forward' });

/**
 * Whether a request is put to the gate (DESIGN.md §2), the one rule for the embedded proxy and the
 * drachtio middleware: every REGISTER, and an INVITE unless it belongs to a dialog (RFC 3261
 * §12.1). Every other method is relayed unchecked (§16.11). Each caller says what "in a dialog"
 * means on its path: a dialog token of ours (embedded), a To tag (drachtio-server routes the rest).
 */
export function isGated(method: string, inDialog: boolean): boolean {
  return method === 'REGISTER' || (method === 'INVITE' && !inDialog);
}
