import type { EventSource } from '../lifecycle/event-type.js';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { formatIsoUtc } from '../shared/iso-time.js';
import { fail, succeed, type Outcome } from './outcome.js';
import { statement } from './statements.js';

/**
 * The durable outbox (DESIGN.md §3): lifecycle events written in the transaction of the state
 * they describe, and their delivery state per webhook URL.
 *
 * ```
 *   pending ──2xx from every webhook──► delivered   (never sent again)
 *      │ ──4xx other than 408/429─────► failed      ('events retry' → pending)
 *      └──older than the maximum age──► dead        ('events retry' → pending)
 * ```
 */
export const EVENT_STATUSES = ['pending', 'delivered', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export interface NewOutboxEvent {
  readonly eventId: string;
  readonly type: string;
  readonly rootGroup: string;
  readonly source: EventSource;
  readonly operator: string | null;
  readonly occurredAt: number;
  readonly createdAt: number;
  /** The JSON body, exactly as it will be signed and sent. */
  readonly payload: string;
}

/** What was queued, as the writer reports it. */
export interface QueuedEvent {
  readonly id: number;
  readonly eventId: string;
  readonly type: string;
  readonly rootGroup: string;
}

/** Where delivery stands; the outbox keeps it per event and per (event, webhook). */
export interface AttemptState {
  readonly status: EventStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastAttemptAt: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

export interface OutboxEvent extends QueuedEvent, AttemptState {
  readonly source: EventSource;
  readonly operator: string | null;
  readonly occurredAt: number;
  readonly createdAt: number;
  readonly ageFrom: number;
  readonly payload: string;
  /** `attempts`: over every webhook, ever (a retry does not reset it). */
  readonly finishedAt: number | null;
}

export interface OutboxDelivery extends AttemptState {
  readonly target: string;
  /** `attempts`: since the event was queued or last retried; drives the backoff. */
  readonly deliveredAt: number | null;
}

/*
 * Rows as domain objects: the columns renamed by their aliases, in the objects' key order (the
 * JSON of `events list --json`), nothing to convert.
 */
const ATTEMPT_COLUMNS = `status, attempts, next_attempt_at AS nextAttemptAt, last_attempt_at AS lastAttemptAt,
  last_status AS lastStatus, last_error AS lastError`;
const EVENT_SELECT = `SELECT id, event_id AS eventId, type, root_group AS rootGroup, source, operator, occurred_at AS occurredAt,
  created_at AS createdAt, age_from AS ageFrom, payload, ${ATTEMPT_COLUMNS}, finished_at AS finishedAt FROM outbox`;

/** Appends one event, due at once. Call it inside the transaction of the change it describes. */
export function enqueueEvent(db: Db, e: NewOutboxEvent): QueuedEvent {
  const info = statement(
    db,
    `INSERT INTO outbox (event_id, type, root_group, source, operator, occurred_at, created_at, age_from, payload, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(e.eventId, e.type, e.rootGroup, e.source, e.operator, e.occurredAt, e.createdAt, e.createdAt, e.payload, e.createdAt);
  return { id: Number(info.lastInsertRowid), eventId: e.eventId, type: e.type, rootGroup: e.rootGroup };
}

export interface EventFilter {
  readonly status?: EventStatus;
  /** Root group name as recorded (events outlive their group, so it is matched as text). */
  readonly rootGroup?: string;
  /** The newest this many (default all), listed oldest first. */
  readonly limit?: number;
}

export function listEvents(db: Db, filter: EventFilter = {}): OutboxEvent[] {
  const rows = statement<[{ status: string | null; group: string | null; limit: number }], OutboxEvent>(
    db,
    `${EVENT_SELECT} WHERE (@status IS NULL OR status = @status) AND (@group IS NULL OR root_group = @group)
     ORDER BY id DESC LIMIT @limit`,
  ).all({ status: filter.status ?? null, group: filter.rootGroup ?? null, limit: filter.limit ?? -1 });
  return rows.reverse();
}

/** An event by its row id (`42`) or its event id (the UUID in the payload). */
export function findEvent(db: Db, ref: string): OutboxEvent | undefined {
  return /^\d{1,15}$/.test(ref)
    ? statement<[number], OutboxEvent>(db, `${EVENT_SELECT} WHERE id = ?`).get(Number(ref))
    : statement<[string], OutboxEvent>(db, `${EVENT_SELECT} WHERE event_id = ?`).get(ref);
}

export function deliveriesOf(db: Db, outboxId: number): OutboxDelivery[] {
  return statement<[number], OutboxDelivery>(
    db,
    `SELECT target, ${ATTEMPT_COLUMNS}, delivered_at AS deliveredAt FROM outbox_deliveries WHERE outbox_id = ? ORDER BY target`,
  ).all(outboxId);
}

/** Pending events whose next attempt is due, oldest first (one indexed range scan). */
export function dueEvents(db: Db, now: number, limit: number): OutboxEvent[] {
  return statement<[number, number], OutboxEvent>(
    db,
    `${EVENT_SELECT} WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
  ).all(now, limit);
}

/** Events written after row `id`, oldest first (the daemon logs each one once). */
export function eventsAfter(db: Db, id: number, limit: number): OutboxEvent[] {
  return statement<[number, number], OutboxEvent>(db, `${EVENT_SELECT} WHERE id > ? ORDER BY id LIMIT ?`).all(id, limit);
}

export function lastEventId(db: Db): number {
  return statement<[], { id: number | null }>(db, 'SELECT MAX(id) AS id FROM outbox').get()?.id ?? 0;
}

export function countByStatus(db: Db): Record<EventStatus, number> {
  const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, failed: 0, dead: 0 };
  for (const r of statement<[], { status: EventStatus; n: number }>(db, 'SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all()) {
    counts[r.status] = r.n;
  }
  return counts;
}

/**
 * Brings the event's status in line with its deliveries to the `targets` configured now: every
 * one delivered → delivered; some still pending → pending, due at the earliest of them; none
 * pending → dead if any died, else failed.
 */
function settleEvent(db: Db, outboxId: number, targets: readonly string[], now: number): EventStatus {
  const rows = deliveriesOf(db, outboxId).filter((d) => targets.includes(d.target));
  const current = statement<[number], { status: EventStatus }>(db, 'SELECT status FROM outbox WHERE id = ?').get(outboxId);
  if (!current) throw new Error(`outbox event ${outboxId} is gone`);
  if (rows.length === 0) return current.status;
  const pending = rows.filter((d) => d.status === 'pending');
  if (pending.length > 0) {
    const next = Math.min(...pending.map((d) => d.nextAttemptAt));
    statement(db, "UPDATE outbox SET status = 'pending', next_attempt_at = ?, finished_at = NULL WHERE id = ?").run(next, outboxId);
    return 'pending';
  }
  let status: EventStatus = 'failed';
  let finishedAt = now;
  if (rows.every((d) => d.status === 'delivered')) {
    status = 'delivered';
    finishedAt = Math.max(...rows.map((d) => d.deliveredAt ?? now));
  } else if (rows.some((d) => d.status === 'dead')) {
    status = 'dead';
  }
  statement(db, 'UPDATE outbox SET status = ?, finished_at = ? WHERE id = ?').run(status, finishedAt, outboxId);
  return status;
}

export interface ClaimedAttempt {
  readonly target: string;
  /** 1 for the first attempt (since the last retry). */
  readonly attempt: number;
}

/**
 * Starts attempts on an event: makes its delivery rows for the configured `targets`, then takes
 * every due one by moving its next attempt to `leaseUntil` — so neither a later pass nor another
 * process sends it again while the request is in flight, and after a crash it is retried once the
 * lease ends. One transaction.
 */
export function claimAttempts(
  db: Db,
  outboxId: number,
  targets: readonly string[],
  now: number,
  leaseUntil: number,
  skip: ReadonlySet<string> = new Set(),
): ClaimedAttempt[] {
  return db
    .transaction((): ClaimedAttempt[] => {
      const event = statement<[number], { status: EventStatus }>(db, 'SELECT status FROM outbox WHERE id = ?').get(outboxId);
      if (event?.status !== 'pending') return [];
      const insert = statement(
        db,
        'INSERT OR IGNORE INTO outbox_deliveries (outbox_id, target, next_attempt_at) VALUES (?, ?, ?)',
      );
      for (const t of targets) insert.run(outboxId, t, now);
      const claimed: ClaimedAttempt[] = [];
      const take = statement<[number, number, number, string, number], { attempts: number }>(
        db,
        `UPDATE outbox_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?
         WHERE outbox_id = ? AND target = ? AND status = 'pending' AND next_attempt_at <= ? RETURNING attempts`,
      );
      for (const t of targets) {
        if (skip.has(t)) continue;
        const row = take.get(leaseUntil, now, outboxId, t, now);
        if (row) claimed.push({ target: t, attempt: row.attempts });
      }
      if (claimed.length > 0) {
        statement(db, 'UPDATE outbox SET attempts = attempts + ?, last_attempt_at = ? WHERE id = ?').run(claimed.length, now, outboxId);
      }
      settleEvent(db, outboxId, targets, now);
      return claimed;
    })
    .immediate();
}

export interface AttemptRecord {
  readonly at: number;
  readonly verdict: 'delivered' | 'retry' | 'failed';
  readonly status: number | null;
  readonly error: string | null;
  /** For `retry`: when to try again. */
  readonly nextAttemptAt: number;
}

/**
 * Records the result of one attempt and returns the event's status afterwards. A 2xx is recorded
 * even if the event was given up meanwhile, so that it is never sent again.
 */
export function recordAttempt(db: Db, outboxId: number, target: string, r: AttemptRecord, targets: readonly string[]): EventStatus {
  return db
    .transaction((): EventStatus => {
      const status: EventStatus = r.verdict === 'retry' ? 'pending' : r.verdict;
      statement(
        db,
        `UPDATE outbox_deliveries SET status = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
           delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
         WHERE outbox_id = ? AND target = ? AND (status = 'pending' OR ? = 'delivered')`,
      ).run(status, r.nextAttemptAt, r.status, r.error, status, r.at, outboxId, target, status);
      statement(db, 'UPDATE outbox SET last_status = ?, last_error = ? WHERE id = ?').run(r.status, r.error, outboxId);
      return settleEvent(db, outboxId, targets, r.at);
    })
    .immediate();
}

/** Gives up an event that reached the maximum age: every delivery not yet made dies with it. */
export function markDead(db: Db, outboxId: number, now: number, reason: string): void {
  db.transaction(() => {
    statement(db, "UPDATE outbox_deliveries SET status = 'dead' WHERE outbox_id = ? AND status = 'pending'").run(outboxId);
    statement(db, "UPDATE outbox SET status = 'dead', finished_at = ?, last_error = ? WHERE id = ? AND status = 'pending'").run(
      now,
      reason,
      outboxId,
    );
  }).immediate();
}

/**
 * `events retry`: a failed or dead event is delivered again to the webhooks that have not
 * answered 2xx, with a fresh backoff and maximum age; a pending one is made due now. A delivered
 * event is refused: it is never sent again.
 */
export function retryEvent(db: Db, ref: string, ctx: ChangeContext): Outcome<OutboxEvent> {
  return db
    .transaction((): Outcome<OutboxEvent> => {
      const event = findEvent(db, ref);
      if (!event) return fail('not-found', 'id', `event '${ref}' does not exist; see 'sipwarden events list'`);
      if (event.status === 'delivered') {
        return fail(
          'conflict',
          'id',
          `event ${event.id} (${event.type}) was delivered at ${formatIsoUtc(event.finishedAt ?? event.createdAt)}; a delivered event is never sent again`,
        );
      }
      statement(
        db,
        "UPDATE outbox SET status = 'pending', age_from = ?, next_attempt_at = ?, finished_at = NULL WHERE id = ?",
      ).run(ctx.now, ctx.now, event.id);
      statement(
        db,
        `UPDATE outbox_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
         WHERE outbox_id = ? AND status <> 'delivered'`,
      ).run(ctx.now, event.id);
      appendAudit(db, {
        at: ctx.now,
        operator: ctx.operator,
        action: 'events.retry',
        outcome: 'ok',
        rootGroup: event.rootGroup,
        target: event.eventId,
        oldValue: { status: event.status },
        newValue: { status: 'pending' },
      });
      const after = findEvent(db, String(event.id));
      if (!after) throw new Error(`outbox event ${event.id} vanished during retry`);
      return succeed(after);
    })
    .immediate();
}
