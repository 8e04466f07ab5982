import { endpointKey } from './flow.js';

/** What the table needs of a stream connection (a TCP socket or a WebSocket). */
export interface StreamConnection {
  write(data: Buffer): void;
  /** Closes at once, releasing the socket. */
  destroy(): void;
}

export interface ConnectionEntry<C extends StreamConnection> {
  readonly connection: C;
  readonly keys: string[];
  lastActivity: number;
}

export interface ConnectionTableOptions {
  /** Connections beyond this are refused (closed at once). */
  readonly maxConnections: number;
  /** A connection with no traffic for this long is closed. */
  readonly idleTimeoutMs: number;
}

/**
 * Open connections of one stream transport, keyed by the remote `address|port` — the Via's
 * received/rport, which the proxy stamps on every request that comes on a stream — plus the RFC
 * 5923 aliases. Bounded in size; idle connections are swept by one unref'd timer.
 */
export class ConnectionTable<C extends StreamConnection> {
  readonly #byKey = new Map<string, ConnectionEntry<C>>();
  readonly #entries = new Set<ConnectionEntry<C>>();
  readonly #options: ConnectionTableOptions;
  readonly #timer: NodeJS.Timeout;

  constructor(options: ConnectionTableOptions) {
    this.#options = options;
    const every = Math.max(50, Math.min(options.idleTimeoutMs / 2, 10_000));
    this.#timer = setInterval(() => this.sweep(Date.now()), every);
    this.#timer.unref();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Registers a connection under `key`; null (and the caller must close it) when the table is full. */
  add(key: string, connection: C): ConnectionEntry<C> | null {
    if (this.#entries.size >= this.#options.maxConnections) return null;
    const entry: ConnectionEntry<C> = { connection, keys: [key], lastActivity: Date.now() };
    this.#entries.add(entry);
    this.#byKey.set(key, entry);
    return entry;
  }

  get(key: string): ConnectionEntry<C> | undefined {
    return this.#byKey.get(key);
  }

  alias(entry: ConnectionEntry<C>, key: string): void {
    if (!this.#entries.has(entry) || this.#byKey.get(key) === entry) return;
    this.#byKey.set(key, entry);
    entry.keys.push(key);
  }

  /** RFC 5923: the connection of `flow` may also be reused for requests to `host:port`. */
  aliasFlow(flow: { readonly address: string; readonly port: number }, host: string, port: number): void {
    const entry = this.#byKey.get(endpointKey(flow.address, flow.port));
    if (entry !== undefined) this.alias(entry, endpointKey(host, port));
  }

  /** Sends on a connection and counts it as activity (idle connections are swept). */
  write(entry: ConnectionEntry<C>, data: Buffer): void {
    entry.lastActivity = Date.now();
    entry.connection.write(data);
  }

  /** Forgets a connection (it closed); keys since taken by another connection are left alone. */
  remove(entry: ConnectionEntry<C>): void {
    if (!this.#entries.delete(entry)) return;
    for (const key of entry.keys) if (this.#byKey.get(key) === entry) this.#byKey.delete(key);
  }

  sweep(now: number): void {
    for (const entry of this.#entries) {
      if (now - entry.lastActivity >= this.#options.idleTimeoutMs) {
        this.remove(entry);
        entry.connection.destroy();
      }
    }
  }

  /** Closes every connection and stops the sweep timer. */
  closeAll(): void {
    clearInterval(this.#timer);
    for (const entry of [...this.#entries]) {
      this.remove(entry);
      entry.connection.destroy();
    }
  }
}
