import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { formatIsoUtc } from '../shared/iso-time.js';
import { claimAttempts, dueEvents, markDead, recordAttempt, type ClaimedAttempt, type EventStatus, type OutboxEvent } from '../store/outbox.js';
import { retryDelay, type RetryPolicy } from './backoff.js';
import { classifyAttempt, type AttemptVerdict } from './delivery-outcome.js';
import { displayUrl } from './display-url.js';
import { createAgents, postJson, type PostResult } from './http-post.js';
import { SIGNATURE_HEADER, signBody } from './signer.js';

export interface DelivererOptions {
  /** Webhook URLs (the push gateway); every event goes to each. */
  readonly webhooks: readonly string[];
  /** HMAC-SHA256 key of the signature header. Never logged. */
  readonly secret: string;
  readonly retry: RetryPolicy;
  /** An event not delivered this long after it was queued (or retried) is given up as dead. */
  readonly maxAgeMs: number;
  /** Bound on one POST, connect to end of response. */
  readonly timeoutMs: number;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Called before a pass sends anything (the daemon refreshes its licence snapshot here). */
  readonly beforeSend?: () => void;
  readonly maxInFlight?: number;
  readonly random?: () => number;
}

/** One attempt, as `pass()` reports it (and the log line says). */
export interface AttemptReport {
  readonly eventId: string;
  readonly type: string;
  readonly group: string;
  readonly target: string;
  readonly attempt: number;
  readonly status: number | null;
  readonly error: string | null;
  readonly verdict: AttemptVerdict;
  /** The event's status afterwards (over every webhook). */
  readonly eventStatus: EventStatus;
  readonly nextAttemptAt: number | null;
}

/** Extra time past the request timeout before a claimed attempt counts as lost (a crash). */
const LEASE_MARGIN_MS = 1000;
const BATCH = 100;

/**
 * Delivers the outbox to the webhooks: at least once, and never again to a webhook that answered
 * 2xx. Each attempt is claimed in the store before the POST (a lease), so a pass, another process
 * or a restart after `kill -9` never sends what is in flight, and sends again what was lost.
 * Failures back off exponentially with jitter; a 4xx other than 408/429 gives up (failed); an
 * event older than the maximum age is given up (dead).
 */
export class OutboxDeliverer {
  readonly #inFlight = new Map<string, Promise<AttemptReport | null>>();
  readonly #abort = new AbortController();
  readonly #agents = createAgents();
  readonly #targets: readonly string[];
  readonly #urls: ReadonlyMap<string, URL>;
  #closed = false;

  constructor(
    private readonly db: Db,
    private readonly options: DelivererOptions,
  ) {
    this.#targets = [...new Set(options.webhooks)];
    this.#urls = new Map(this.#targets.map((t) => [t, new URL(t)]));
  }

  /** Starts every due attempt and resolves once they have all been answered and recorded. */
  async pass(): Promise<AttemptReport[]> {
    if (this.#closed) return [];
    const now = this.options.clock();
    const due = dueEvents(this.db, now, BATCH);
    if (due.length === 0) return [];
    this.options.beforeSend?.();
    const started: Promise<AttemptReport | null>[] = [];
    for (const event of due) {
      if (now >= event.ageFrom + this.options.maxAgeMs) {
        this.#giveUp(event, now);
        continue;
      }
      if (this.#inFlight.size >= (this.options.maxInFlight ?? 16)) break;
      const busy = new Set(this.#targets.filter((t) => this.#inFlight.has(key(event.id, t))));
      const lease = now + this.options.timeoutMs + LEASE_MARGIN_MS;
      for (const claim of claimAttempts(this.db, event.id, this.#targets, now, lease, busy)) {
        const k = key(event.id, claim.target);
        const attempt = this.#attempt(event, claim).finally(() => this.#inFlight.delete(k));
        this.#inFlight.set(k, attempt);
        started.push(attempt);
      }
    }
    const reports = await Promise.all(started);
    return reports.filter((r): r is AttemptReport => r !== null);
  }

  /** Aborts requests in flight (their leases make them retried after a restart) and frees sockets. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await Promise.allSettled([...this.#inFlight.values()]);
    this.#agents.destroy();
  }

  async #attempt(event: OutboxEvent, claim: ClaimedAttempt): Promise<AttemptReport | null> {
    const url = this.#urls.get(claim.target);
    if (!url) throw new Error(`no URL for webhook ${claim.target}`);
    const headers = {
      'User-Agent': 'sipwarden',
      'X-Sipwarden-Event-Id': event.eventId,
      'X-Sipwarden-Event-Type': event.type,
      'X-Sipwarden-Delivery-Attempt': String(claim.attempt),
      [SIGNATURE_HEADER]: signBody(this.options.secret, event.payload),
    };
    const started = performance.now();
    const result = await postJson(url, event.payload, headers, this.#agents, {
      timeoutMs: this.options.timeoutMs,
      signal: this.#abort.signal,
    });
    // Stopping: record nothing; the lease runs out and the next start tries again.
    if (this.#closed) return null;
    return this.#record(event, claim, result, Math.round(performance.now() - started));
  }

  #record(event: OutboxEvent, claim: ClaimedAttempt, result: PostResult, ms: number): AttemptReport {
    const at = this.options.clock();
    const verdict = classifyAttempt(result);
    const status = result.kind === 'response' ? result.status : null;
    const error = result.kind === 'error' ? result.error : verdict === 'failed' || verdict === 'retry' ? `HTTP ${status}` : null;
    let nextAttemptAt: number | null = null;
    if (verdict === 'retry') {
      const backoff = retryDelay(claim.attempt, this.options.retry, this.options.random);
      const asked = result.kind === 'response' && result.retryAfterMs !== null ? Math.min(result.retryAfterMs, this.options.retry.maxDelayMs) : 0;
      // Never past the maximum age: the attempt due then finds the event too old and gives it up.
      nextAttemptAt = Math.min(at + Math.max(backoff, asked), event.ageFrom + this.options.maxAgeMs);
    }
    const eventStatus = recordAttempt(
      this.db,
      event.id,
      claim.target,
      { at, verdict, status, error, nextAttemptAt: nextAttemptAt ?? at },
      this.#targets,
    );
    const report: AttemptReport = {
      eventId: event.eventId,
      type: event.type,
      group: event.rootGroup,
      target: displayUrl(claim.target),
      attempt: claim.attempt,
      status,
      error,
      verdict,
      eventStatus,
      nextAttemptAt,
    };
    const line = {
      eventId: report.eventId,
      type: report.type,
      group: report.group,
      target: report.target,
      attempt: report.attempt,
      status,
      error,
      outcome: verdict,
      eventStatus,
      nextAttemptAt: nextAttemptAt === null ? null : formatIsoUtc(nextAttemptAt),
      ms,
    };
    if (verdict === 'delivered') this.options.logger.info(line, 'webhook delivery');
    else this.options.logger.warn(line, 'webhook delivery');
    return report;
  }

  #giveUp(event: OutboxEvent, now: number): void {
    const hours = Math.round((this.options.maxAgeMs / 3_600_000) * 100) / 100;
    markDead(this.db, event.id, now, `not delivered within the maximum age (${hours} h)`);
    this.options.logger.warn(
      { eventId: event.eventId, type: event.type, group: event.rootGroup, attempts: event.attempts, queuedAt: formatIsoUtc(event.ageFrom) },
      'webhook event dead',
    );
  }
}

function key(outboxId: number, target: string): string {
  return `${outboxId} ${target}`;
}
