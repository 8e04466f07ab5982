import type { Db } from '../store/database.js';
import { applyClockStep, lifecycleFacts } from '../store/lifecycle.js';
import { eventsAfter, lastEventId, type OutboxEvent, type QueuedEvent } from '../store/outbox.js';
import { dataVersion, statement } from '../store/statements.js';
import { planClockStep } from '../lifecycle/lifecycle-plan.js';

export interface SchedulerOptions {
  /** Told about every event that appears in the outbox (the scheduler's and the CLI's), once. */
  readonly onEvent?: (event: OutboxEvent) => void;
}

export interface TickReport {
  /** Whether the groups were read (the tick is skipped while nothing changed and nothing is due). */
  readonly scanned: boolean;
  /** Events this tick wrote. */
  readonly written: readonly QueuedEvent[];
  /** When the next time-driven event is due, as far as this tick knows. */
  readonly nextAt: number | null;
}

/** Events announced per tick at most. */
const ANNOUNCE_BATCH = 1000;

/**
 * Turns time into lifecycle events (DESIGN.md §3). `tick(now)` is one step over the store: it
 * reads every root group's settings and lifecycle state, and for each group where a transition
 * or reminder is due writes the events and the new state in one transaction. Nothing is kept in
 * memory that the store does not also hold, so a restarted daemon (or a second one) continues
 * where the last left off; the tick times only decide when events are noticed, never whether.
 *
 * To stay cheap at a tick every 250 ms, a tick reads the groups only when the earliest known due
 * time has come or the Licences settings may have changed: another process committed (`PRAGMA
 * data_version`), or this connection wrote (`total_changes()`) and the sum of the licences'
 * revisions moved — so the daemon's own frequent writes (install last-seen times, delivery
 * state) do not cost a scan.
 */
export class LifecycleScheduler {
  #nextAt = Number.NEGATIVE_INFINITY;
  #dataVersion = -1;
  #totalChanges = -1;
  #revisions = -1;
  #lastLogged: number;
  #announcedVersion = -1;
  #announcedChanges = -1;

  constructor(
    private readonly db: Db,
    private readonly options: SchedulerOptions = {},
  ) {
    this.#lastLogged = lastEventId(db);
  }

  tick(now: number): TickReport {
    let report: TickReport = { scanned: false, written: [], nextAt: Number.isFinite(this.#nextAt) ? this.#nextAt : null };
    if (this.#changed() || now >= this.#nextAt) report = this.#scan(now);
    this.#announceNew();
    return report;
  }

  /**
   * Tells `onEvent` of the outbox's new events, ANNOUNCE_BATCH a tick. They are looked for only
   * when one can have been written since the last look: another connection committed
   * (data_version) or this one wrote (total_changes); an idle tick then runs no query. The marks
   * are read before the query, so a commit landing during it is looked for on the next tick.
   */
  #announceNew(): void {
    const onEvent = this.options.onEvent;
    if (!onEvent) return;
    const version = dataVersion(this.db);
    const changes = this.#readTotalChanges();
    if (version === this.#announcedVersion && changes === this.#announcedChanges) return;
    const events = eventsAfter(this.db, this.#lastLogged, ANNOUNCE_BATCH);
    for (const event of events) {
      this.#lastLogged = event.id;
      onEvent(event);
    }
    // A full batch may have left more behind: look again next tick.
    this.#announcedVersion = events.length < ANNOUNCE_BATCH ? version : -1;
    this.#announcedChanges = changes;
  }

  #scan(now: number): TickReport {
    const due: number[] = [];
    let nextAt = Number.POSITIVE_INFINITY;
    for (const { groupId, facts } of lifecycleFacts(this.db)) {
      const plan = planClockStep(facts, now);
      if (plan.record || plan.transition !== null || plan.reminderAt !== null) due.push(groupId);
      if (plan.nextAt !== null) nextAt = Math.min(nextAt, plan.nextAt);
    }
    // Re-planned inside the write transaction: a CLI may have changed a group since the read.
    const written =
      due.length === 0
        ? []
        : this.db.transaction(() => due.flatMap((id) => applyClockStep(this.db, id, now, { reminders: true }))).immediate();
    this.#nextAt = nextAt;
    // Our own writes must not count as a change for the next tick.
    this.#dataVersion = dataVersion(this.db);
    this.#totalChanges = this.#readTotalChanges();
    this.#revisions = this.#readRevisions();
    return { scanned: true, written, nextAt: Number.isFinite(nextAt) ? nextAt : null };
  }

  #changed(): boolean {
    if (dataVersion(this.db) !== this.#dataVersion) return true;
    const changes = this.#readTotalChanges();
    if (changes === this.#totalChanges) return false;
    this.#totalChanges = changes;
    const revisions = this.#readRevisions();
    if (revisions === this.#revisions) return false;
    this.#revisions = revisions;
    return true;
  }

  /** Moves with every change of a group's settings (the licenses_au trigger) or tree. */
  #readRevisions(): number {
    return statement<[], { n: number }>(this.db, 'SELECT COUNT(*) + TOTAL(revision) AS n FROM licenses').get()?.n ?? 0;
  }

  #readTotalChanges(): number {
    return statement<[], { n: number }>(this.db, 'SELECT total_changes() AS n').get()?.n ?? 0;
  }
}
