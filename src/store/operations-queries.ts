import type { Db } from './database.js';
import type { EventStatus } from './outbox.js';
import { statement } from './statements.js';

/**
 * What the metrics and the readiness probe read from the store: small aggregate reads on the
 * daemon's own connection, run at scrape or probe time, never on the SIP path.
 */

/** Null when a read of the database succeeds; else what failed, in words. */
export function databaseReadProblem(db: Db): string | null {
  try {
    // Reads the schema page and a table page: an unreadable or vanished file fails here.
    statement<[], { n: number }>(db, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM groups LIMIT 1)').get();
    return null;
  } catch (err) {
    return `database not readable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Outbox events by status, and when the oldest pending one was queued (null when none is). */
export interface OutboxSummary {
  readonly byStatus: Readonly<Record<EventStatus, number>>;
  readonly oldestPendingAt: number | null;
}

export function outboxSummary(db: Db): OutboxSummary {
  const byStatus: Record<EventStatus, number> = { pending: 0, delivered: 0, failed: 0, dead: 0 };
  for (const r of statement<[], { status: EventStatus; n: number }>(db, 'SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all()) {
    byStatus[r.status] = r.n;
  }
  const oldest = statement<[], { at: number | null }>(db, "SELECT MIN(created_at) AS at FROM outbox WHERE status = 'pending'").get();
  return { byStatus, oldestPendingAt: oldest?.at ?? null };
}

/** Mobile-app installs known to the store: holding a licence, and not (refused, released). */
export interface InstallCounts {
  readonly licensed: number;
  readonly unlicensed: number;
}

export function installCounts(db: Db): InstallCounts {
  const counts = { licensed: 0, unlicensed: 0 };
  for (const r of statement<[], { licensed: number; n: number }>(db, 'SELECT licensed, COUNT(*) AS n FROM app_installs GROUP BY licensed').all()) {
    if (r.licensed === 1) counts.licensed = r.n;
    else counts.unlicensed = r.n;
  }
  return counts;
}
