/** Counters of what the proxy did, for tests, benchmarks and a future metrics endpoint. */
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
  };
}
