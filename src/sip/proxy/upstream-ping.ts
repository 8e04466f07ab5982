import { randomBytes } from 'node:crypto';
import type { OwnVia } from './forward-request.js';
import { runNonInviteTransaction, type TransactionOutcome, type TransactionTarget } from './upstream-transaction.js';
import { formatHost } from '../message/uri.js';

/** What one ping found: the upstream answered (any 1xx-4xx final), said it cannot serve (5xx, 6xx), said nothing, or could not be reached. */
export type PingResult = 'answered' | 'unavailable' | 'timeout' | 'error';

export const PING_RESULTS: readonly PingResult[] = ['answered', 'unavailable', 'timeout', 'error'];

/** The upstream as the last ping found it. */
export interface UpstreamState {
  /** null until the first ping has settled. */
  readonly up: boolean | null;
  readonly lastResult: PingResult | null;
  /** The status of the last final response, if one came. */
  readonly lastStatus: number | null;
  /** How long the last answered ping took, in ms. */
  readonly lastRttMs: number | null;
  /** When the last ping settled (clock ms). */
  readonly lastAt: number | null;
  /** Since when `up` has held its value (clock ms). */
  readonly since: number | null;
  /** A short text for logs and readiness when it is down, e.g. "no answer to OPTIONS within 2000 ms". */
  readonly problem: string | null;
}

export interface UpstreamPingOptions {
  readonly target: TransactionTarget;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly clock?: () => number;
  /** Told when `up` changes (and after the first ping). */
  readonly onChange?: (state: UpstreamState) => void;
}

/**
 * Asks the upstream SIP server OPTIONS every `intervalMs`, from a socket of its own, as Kamailio's
 * dispatcher pings its destinations: an OPTIONS is the capability query every SIP server answers
 * (RFC 3261 §11). Any final answer below 500 means it is up (a 404 or 405 still proves it reads
 * SIP); 5xx and 6xx say it cannot serve, no answer within `timeoutMs` (UDP retransmitted after T1,
 * RFC 3261 §17.1.2.2) that it is down. One ping at a time; the first at once.
 */
export class UpstreamPing {
  #state: UpstreamState = { up: null, lastResult: null, lastStatus: null, lastRttMs: null, lastAt: null, since: null, problem: null };
  readonly #counts: Record<PingResult, number> = { answered: 0, unavailable: 0, timeout: 0, error: 0 };
  readonly #abort = new AbortController();
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly options: UpstreamPingOptions) {
    this.#clock = options.clock ?? Date.now;
  }

  get state(): UpstreamState {
    return this.#state;
  }

  /** Pings so far by result. */
  counts(): Readonly<Record<PingResult, number>> {
    return this.#counts;
  }

  start(): void {
    if (this.#stopped || this.#running !== undefined || this.#timer !== undefined) return;
    this.#loop();
  }

  /** One ping now (also what the timer runs); resolves when it has settled and been recorded. */
  async pingOnce(): Promise<UpstreamState> {
    const started = performance.now();
    const outcome = await runNonInviteTransaction(
      this.options.target,
      (via) => optionsRequest(this.options.target, via),
      { timeoutMs: this.options.timeoutMs },
      this.#abort.signal,
    );
    if (!this.#stopped) this.#record(outcome, performance.now() - started);
    return this.#state;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running;
  }

  #loop(): void {
    this.#timer = undefined;
    this.#running = this.pingOnce().then(
      () => this.#schedule(),
      () => this.#schedule(),
    );
  }

  #schedule(): void {
    this.#running = undefined;
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#loop(), this.options.intervalMs);
    this.#timer.unref();
  }

  #record(outcome: TransactionOutcome, ms: number): void {
    const now = this.#clock();
    let result: PingResult;
    let status: number | null = null;
    let problem: string | null = null;
    if (outcome.kind === 'response') {
      status = outcome.response.status;
      result = status < 500 ? 'answered' : 'unavailable';
      if (result === 'unavailable') problem = `upstream answered OPTIONS ${status} ${outcome.response.reason}`.trim();
    } else if (outcome.kind === 'timeout') {
      result = 'timeout';
      problem = `upstream did not answer OPTIONS within ${this.options.timeoutMs} ms`;
    } else {
      result = 'error';
      problem = `upstream unreachable: ${outcome.error.message}`;
    }
    this.#counts[result]++;
    const up = result === 'answered';
    const previous = this.#state;
    this.#state = {
      up,
      lastResult: result,
      lastStatus: status,
      lastRttMs: up ? Math.round(ms * 1000) / 1000 : null,
      lastAt: now,
      since: previous.up === up ? previous.since : now,
      problem,
    };
    if (previous.up !== up) this.options.onChange?.(this.#state);
  }
}

/** OPTIONS sip:host:port (RFC 3261 §11), from the socket whose Via the transaction gives. */
function optionsRequest(target: TransactionTarget, via: OwnVia): Buffer {
  const host = formatHost(target.host);
  const transport = target.transport === 'udp' ? '' : `;transport=${target.transport}`;
  const tag = randomBytes(6).toString('hex');
  return Buffer.from(
    [
      `OPTIONS sip:${host}:${target.port}${transport} SIP/2.0`,
      `Via: SIP/2.0/${via.transport.toUpperCase()} ${formatHost(via.host)}:${via.port};branch=${via.branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:sipwarden@${formatHost(via.host)}:${via.port}>;tag=${tag}`,
      `To: <sip:${host}:${target.port}>`,
      `Call-ID: ${randomBytes(12).toString('hex')}@sipwarden-ping`,
      'CSeq: 1 OPTIONS',
      'User-Agent: sipwarden',
      'Accept: application/sdp',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}
