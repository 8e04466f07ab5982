import type { Logger } from 'pino';
import type { SrfClient } from './drachtio-types.js';

export interface ReconnectPolicy {
  /** Wait after the first failure; doubled after each further one. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = Object.freeze({ initialDelayMs: 250, maxDelayMs: 10_000 });

export interface DrachtioTarget {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

export interface DrachtioConnectionOptions {
  readonly target: DrachtioTarget;
  readonly logger: Logger;
  readonly reconnect?: Partial<ReconnectPolicy>;
  /** How long `close()` waits for drachtio-server to close the TCP connection. */
  readonly closeTimeoutMs?: number;
}

/** Delay before attempt `failures + 1`: exponential, capped. */
export function reconnectDelay(failures: number, policy: ReconnectPolicy): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
}

type State = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closing' | 'closed';

/**
 * Keeps an outbound connection from drachtio-srf to drachtio-server, reconnecting with a capped
 * exponential backoff.
 *
 * ```
 *   start ──► connecting ──connect ok──► connected
 *                ▲   │ close                 │ close
 *          timer │   ▼                       ▼
 *                └ waiting ◄─────────────────┘
 *   close() from any state ──► closing ──close event or timeout──► closed
 * ```
 *
 * drachtio-srf can reconnect by itself, but its delay (150 ms × 1.7ⁿ) has no cap unless
 * `retryMaxDelay` is given, and a connection still being retried cannot be stopped: `disconnect()`
 * asserts on a socket that does not exist yet and the retry timer keeps running. So its own
 * reconnect is turned off (`maxAttempts: 1`) and every attempt is a fresh `srf.connect()`; the
 * routes registered with `srf.use` are sent again on each new connection.
 */
export class DrachtioConnection {
  #state: State = 'idle';
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastError: Error | undefined;
  #closing: Promise<void> | undefined;
  #socketClosed: (() => void) | undefined;
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  readonly #policy: ReconnectPolicy;
  readonly #log: Logger;

  constructor(
    private readonly srf: SrfClient,
    private readonly options: DrachtioConnectionOptions,
  ) {
    this.#policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#log = options.logger;
    srf.on('connect', (err, hostport, serverVersion) => this.#onConnect(err ?? null, hostport, serverVersion));
    srf.on('close', () => this.#onClose());
    srf.on('error', (err) => {
      // A close always follows; it logs, with this error as the cause.
      this.#lastError = err;
    });
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  start(): void {
    if (this.#state === 'idle') this.#attempt();
  }

  /** Resolves once authenticated to drachtio-server; rejects if closed first. */
  whenConnected(): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve();
    if (this.#state === 'closing' || this.#state === 'closed') return Promise.reject(new Error('drachtio connection closed'));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops reconnecting and ends the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const previous = this.#state;
    this.#state = 'closing';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settleWaiters(new Error('drachtio connection closed'));
    if (previous !== 'idle' && previous !== 'waiting') {
      const socketClosed = new Promise<void>((resolve) => (this.#socketClosed = resolve));
      // While the TCP connect is still in flight there is no socket to end: the attempt then
      // settles as `close` (done) or `connect` (disconnected at once by #onConnect).
      this.#disconnect();
      if (!(await settlesWithin(socketClosed, this.options.closeTimeoutMs ?? 3000))) {
        this.#log.warn({ drachtio: this.#where() }, 'drachtio-server did not close the connection in time; giving up on it');
      }
    }
    this.#state = 'closed';
    this.#log.info({ drachtio: this.#where() }, 'drachtio connection closed');
  }

  #attempt(): void {
    this.#state = 'connecting';
    const { host, port, secret } = this.options.target;
    try {
      this.srf.connect({ host, port, secret, reconnect: { maxAttempts: 1 } });
    } catch (err) {
      this.#lastError = err instanceof Error ? err : new Error(String(err));
      this.#retry(false);
    }
  }

  #onConnect(err: Error | null, hostport: string | undefined, serverVersion: string | undefined): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#disconnect();
      return;
    }
    if (err !== null) {
      // Wrong secret: drachtio-server keeps the socket; end it, and the close schedules a retry.
      this.#lastError = err;
      this.#log.error({ drachtio: this.#where(), err: err.message }, 'drachtio-server refused us; check sip.drachtio.secret');
      this.#disconnect();
      return;
    }
    this.#state = 'connected';
    this.#failures = 0;
    this.#lastError = undefined;
    this.#log.info({ drachtio: this.#where(), sipAddresses: hostport ?? null, serverVersion: serverVersion ?? null }, 'connected to drachtio-server');
    this.#settleWaiters(null);
  }

  #onClose(): void {
    if (this.#state === 'closing') {
      this.#socketClosed?.();
      return;
    }
    if (this.#state === 'closed' || this.#state === 'waiting' || this.#state === 'idle') return;
    this.#retry(this.#state === 'connected');
  }

  #retry(wasConnected: boolean): void {
    this.#failures++;
    const delayMs = reconnectDelay(this.#failures, this.#policy);
    const fields = { drachtio: this.#where(), attempt: this.#failures, delayMs, err: this.#lastError?.message ?? null };
    if (wasConnected) this.#log.warn(fields, 'lost the connection to drachtio-server; reconnecting');
    else this.#log.warn(fields, 'cannot connect to drachtio-server; retrying');
    this.#lastError = undefined;
    this.#state = 'waiting';
    // Not unref'd: in drachtio mode this connection is what the daemon is for.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === 'waiting') this.#attempt();
    }, delayMs);
  }

  #disconnect(): void {
    try {
      this.srf.disconnect();
    } catch {
      // No socket (yet): nothing to end.
    }
  }

  #settleWaiters(err: Error | null): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
  }

  #where(): string {
    return `${this.options.target.host}:${this.options.target.port}`;
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
