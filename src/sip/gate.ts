import type { ExtraHeader } from './local-reply.js';
import type { Flow, TransportName } from './flow.js';
import type { SipMessage } from './sip-message.js';

/** What the gate decided for one request. */
export type GateResult =
  | { readonly action: 'forward' }
  | {
      readonly action: 'reply';
      readonly status: number;
      readonly reason: string;
      /** Extra headers of the reply, e.g. `Warning` and `X-Sipwarden-Reason` (DESIGN.md §2). */
      readonly headers?: readonly ExtraHeader[];
    };

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
export type Gate = (request: SipMessage, context: GateContext) => GateResult | PromiseLike<GateResult>;

export const FORWARD: GateResult = Object.freeze({ action: 'forward' });
