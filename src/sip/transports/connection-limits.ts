/**
 * Bounds on the stream connections (TCP and WebSocket) of the embedded proxy. As in Kamailio, where
 * WebSocket rides on the TCP layer, one set of limits covers both transports; the names follow its
 * `tcp_*` core parameters. With these, what one peer can make the proxy hold is bounded: at most
 * `maxConnectionsPerSource` connections, each with at most one unfinished message (MAX_MESSAGE_SIZE)
 * read and `connectionWriteQueueMax` bytes waiting to be written.
 */
export interface StreamLimits {
  /** Accepted connections of all sources together (Kamailio `tcp_max_connections`). */
  readonly maxConnections: number;
  /** Accepted connections from one IP address (Kamailio ≥ 5.8 `tcp_accept_iplimit`). */
  readonly maxConnectionsPerSource: number;
  /**
   * A connection that completes no message (nor a keep-alive) and is sent nothing for this long is
   * closed (Kamailio `tcp_connection_lifetime`). Bytes of an unfinished message do not count.
   */
  readonly connectionLifetimeMs: number;
  /**
   * Once the first byte of a message has arrived — and, on an accepted connection, from the accept
   * until its first message — the whole message must arrive within this time, or the connection is
   * closed (slowloris; Kamailio `tcp_msg_read_timeout`). Also bounds the WebSocket handshake.
   */
  readonly messageReadTimeoutMs: number;
  /**
   * Bytes that may wait in the process to be written to one connection (Kamailio `tcp_conn_wq_max`):
   * a peer that stops reading gets its connection closed when a write would go beyond this.
   */
  readonly connectionWriteQueueMax: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = Object.freeze({
  maxConnections: 10_000,
  maxConnectionsPerSource: 1024,
  connectionLifetimeMs: 600_000,
  messageReadTimeoutMs: 20_000,
  connectionWriteQueueMax: 256 * 1024,
});

export type Admission = 'ok' | 'total' | 'per-source';

/**
 * Counts the connections peers opened to the proxy, by source address and in total, shared by the
 * TCP and WebSocket listeners. Connections the proxy opens itself (to the upstream, back to a
 * client) are not counted: a flood of peers must never keep it from reaching its SIP server.
 */
export class ConnectionAdmission {
  readonly #bySource = new Map<string, number>();
  readonly #limits: Pick<StreamLimits, 'maxConnections' | 'maxConnectionsPerSource'>;
  #open = 0;

  constructor(limits: Pick<StreamLimits, 'maxConnections' | 'maxConnectionsPerSource'>) {
    this.#limits = limits;
  }

  /** Takes a place for a connection from `address`; when not 'ok', the caller closes it. */
  admit(address: string): Admission {
    if (this.#open >= this.#limits.maxConnections) return 'total';
    const held = this.#bySource.get(address) ?? 0;
    if (held >= this.#limits.maxConnectionsPerSource) return 'per-source';
    this.#bySource.set(address, held + 1);
    this.#open++;
    return 'ok';
  }

  /** Gives back the place of an admitted connection that closed. */
  release(address: string): void {
    const held = this.#bySource.get(address);
    if (held === undefined) return;
    if (held <= 1) this.#bySource.delete(address);
    else this.#bySource.set(address, held - 1);
    this.#open--;
  }

  get open(): number {
    return this.#open;
  }
}
