/** Counters of one stream transport's connections (TCP or WebSocket), for tests and metrics. */
export interface ConnectionStats {
  /** Connections peers opened and the proxy kept. */
  accepted: number;
  /** Refused because `maxConnections` were open. */
  refusedTotal: number;
  /** Refused because their source address held `maxConnectionsPerSource`. */
  refusedPerSource: number;
  /** Closed after `connectionLifetimeMs` without a complete message or a write. */
  closedIdle: number;
  /** Closed because a message (or the handshake, or the first message) took over `messageReadTimeoutMs`. */
  closedReadTimeout: number;
  /** Closed because the peer did not read and a write would have queued over `connectionWriteQueueMax`. */
  closedWriteQueue: number;
  /** Closed because a message was larger than MAX_MESSAGE_SIZE (no next boundary to find). */
  closedOversized: number;
}

/** The counters plus what is open right now. */
export interface ConnectionReport extends Readonly<ConnectionStats> {
  readonly open: number;
  /** Bytes waiting in the process to be written, over all connections. */
  readonly queuedBytes: number;
}

export function emptyConnectionStats(): ConnectionStats {
  return {
    accepted: 0,
    refusedTotal: 0,
    refusedPerSource: 0,
    closedIdle: 0,
    closedReadTimeout: 0,
    closedWriteQueue: 0,
    closedOversized: 0,
  };
}
