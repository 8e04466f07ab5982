/** Counters of what the proxy did, for tests, benchmarks and the metrics endpoint (src/ops). */
export interface ProxyStats {
  received: number;
  requestsForwarded: number;
  responsesForwarded: number;
  localReplies: number;
  retransmittedReplies: number;
  acksAbsorbed: number;
  gateCalls: number;
  /** Unparseable, invalid responses, not ours, oversized, unroutable, or failed in a handler. */
  dropped: number;
  /** Requests answered 400 Bad Request. */
  badRequests: number;
  /** Messages too large for the next hop's transport once forwarded: requests answered 513, the rest dropped. */
  tooLarge: number;
  /** New REGISTERs and initial INVITEs refused with 503 by load shedding (also counted in localReplies). */
  shed: number;
  /** Exceptions caught in a message handler (each also counted as dropped); should stay 0. */
  handlerErrors: number;
  /** Unparseable messages dropped without an answer (each also counted as dropped). */
  malformed: number;
  /** Received messages over `maxMessageSize`: requests answered 513, the rest dropped. */
  oversized: number;
  /** Requests with Max-Forwards 0, answered 483 (RFC 3261 §16.3 step 3); an ACK dropped. */
  tooManyHops: number;
  /** Requests whose Max-Forwards was lowered to the configured limit. */
  maxForwardsCapped: number;
  /** OPTIONS addressed to the proxy itself, answered 200 (ready) or 503 (not ready). */
  ownOptionsReady: number;
  ownOptionsNotReady: number;
}

export function emptyStats(): ProxyStats {
  return {
    received: 0,
    requestsForwarded: 0,
    responsesForwarded: 0,
    localReplies: 0,
    retransmittedReplies: 0,
    acksAbsorbed: 0,
    gateCalls: 0,
    dropped: 0,
    badRequests: 0,
    tooLarge: 0,
    shed: 0,
    handlerErrors: 0,
    malformed: 0,
    oversized: 0,
    tooManyHops: 0,
    maxForwardsCapped: 0,
    ownOptionsReady: 0,
    ownOptionsNotReady: 0,
  };
}
