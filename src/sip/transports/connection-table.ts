import type { StreamLimits } from './connection-limits.js';
import { emptyConnectionStats, type ConnectionReport, type ConnectionStats } from './connection-stats.js';

/** What the table needs of a stream connection (a TCP socket or a WebSocket). */
export interface StreamConnection {
  write(data: Buffer): void;
  /** Closes at once, releasing the socket. */
  destroy(): void;
  /** Bytes accepted by `write` and not yet handed to the kernel (socket.writableLength, ws.bufferedAmount). */
  readonly queuedBytes: number;
}

export interface ConnectionEntry<C extends StreamConnection> {
  readonly connection: C;
  readonly key: string;
  /** Last complete message, keep-alive or write (ms since the epoch). */
  lastActivity: number;
  /** When the message being received began; null when no message is under way. */
  readingSince: number | null;
}

export type TableLimits = Pick<StreamLimits, 'connectionLifetimeMs' | 'messageReadTimeoutMs' | 'connectionWriteQueueMax'>;

/** Why the table closed a connection, each counted in the stats. */
type Closing = 'closedIdle' | 'closedReadTimeout' | 'closedWriteQueue' | 'closedOversized';

/**
 * Open connections of one stream transport, keyed by the remote `address|port` — the Via's
 * received/rport, which the proxy stamps on every request that comes on a stream. No other key is
 * ever given to a connection (RFC 5923 aliases are not honoured: without TLS nothing proves
 * them), so no peer can take over another's entry. It enforces the per-connection bounds of StreamLimits: output queued for a peer
 * that does not read, a message that does not complete, a connection that stays idle; one unref'd
 * timer sweeps the last two. How many connections may be open is ConnectionAdmission's business.
 */
export class ConnectionTable<C extends StreamConnection> {
  readonly stats: ConnectionStats = emptyConnectionStats();
  readonly #byKey = new Map<string, ConnectionEntry<C>>();
  readonly #entries = new Set<ConnectionEntry<C>>();
  readonly #limits: TableLimits;
  readonly #timer: NodeJS.Timeout;

  constructor(limits: TableLimits) {
    this.#limits = limits;
    const every = Math.max(25, Math.min(Math.min(limits.connectionLifetimeMs, limits.messageReadTimeoutMs) / 4, 1000));
    this.#timer = setInterval(() => this.sweep(Date.now()), every);
    this.#timer.unref();
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers a connection under `key`. An accepted connection must bring its first message within
   * the read timeout, so that one that never sends cannot hold its place for the idle lifetime.
   */
  add(key: string, connection: C, accepted: boolean, now = Date.now()): ConnectionEntry<C> {
    const entry: ConnectionEntry<C> = { connection, key, lastActivity: now, readingSince: accepted ? now : null };
    this.#entries.add(entry);
    this.#byKey.set(key, entry);
    return entry;
  }

  get(key: string): ConnectionEntry<C> | undefined {
    return this.#byKey.get(key);
  }

  /**
   * What was read: `completed` messages (or keep-alives) and `pending` bytes of one not yet whole.
   * Only completed messages count as activity, so dribbled bytes never keep a connection alive.
   */
  received(entry: ConnectionEntry<C>, completed: boolean, pending: boolean, now = Date.now()): void {
    if (completed) {
      entry.lastActivity = now;
      entry.readingSince = pending ? now : null;
    } else if (pending && entry.readingSince === null) {
      entry.readingSince = now;
    }
  }

  /**
   * Sends on a connection unless its peer has left too much unread: then the connection is closed
   * (and counted) rather than let the process buffer without bound. False when nothing was sent.
   */
  write(entry: ConnectionEntry<C>, data: Buffer): boolean {
    if (!this.#entries.has(entry)) return false;
    if (entry.connection.queuedBytes + data.length > this.#limits.connectionWriteQueueMax) {
      this.close(entry, 'closedWriteQueue');
      return false;
    }
    entry.lastActivity = Date.now();
    entry.connection.write(data);
    return true;
  }

  /** Closes a connection for a reason the stats count. */
  close(entry: ConnectionEntry<C>, why: Closing): void {
    if (!this.#entries.has(entry)) return;
    this.stats[why]++;
    this.remove(entry);
    entry.connection.destroy();
  }

  /** Forgets a connection (it closed); its key, if since taken by another connection, is left alone. */
  remove(entry: ConnectionEntry<C>): void {
    if (!this.#entries.delete(entry)) return;
    if (this.#byKey.get(entry.key) === entry) this.#byKey.delete(entry.key);
  }

  sweep(now: number): void {
    const { connectionLifetimeMs, messageReadTimeoutMs } = this.#limits;
    for (const entry of this.#entries) {
      if (entry.readingSince !== null && now - entry.readingSince >= messageReadTimeoutMs) this.close(entry, 'closedReadTimeout');
      else if (now - entry.lastActivity >= connectionLifetimeMs) this.close(entry, 'closedIdle');
    }
  }

  report(): ConnectionReport {
    let queuedBytes = 0;
    for (const entry of this.#entries) queuedBytes += entry.connection.queuedBytes;
    return { ...this.stats, open: this.#entries.size, queuedBytes };
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
