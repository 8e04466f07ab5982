import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { formatIsoUtc } from '../shared/iso-time.js';
import { statement } from './statements.js';

/** A licence given back because its install had not registered for the configured time. */
export interface IdleRelease {
  readonly instanceId: string;
  readonly number: string;
  readonly rootGroup: string;
  readonly lastSeen: number;
}

interface IdleRaw {
  id: number;
  instance_id: string;
  number: string;
  root_group: string;
  last_seen: number;
}

/**
 * Gives back the licences of installs that have not registered (nor de-registered) since
 * `now - idleMs` (DESIGN.md §1: a licence is given back "when it has not registered for a
 * configurable time"). Each release is one audit row (operator null, action `app.release-idle`),
 * written in the same transaction; the install keeps its row and push parameters, and claims a
 * licence again on its next REGISTER if one is free. The write lock is taken only when there is
 * something to release.
 */
export function releaseIdleInstalls(db: Db, now: number, idleMs: number): IdleRelease[] {
  const seenBefore = now - idleMs;
  const select = statement<[number], IdleRaw>(
    db,
    `SELECT a.id, a.instance_id, n.number, r.name AS root_group, a.last_seen
     FROM app_installs a JOIN numbers n ON n.id = a.number_id JOIN groups r ON r.id = a.root_id
     WHERE a.licensed = 1 AND a.last_seen < ? ORDER BY a.id`,
  );
  if (select.get(seenBefore) === undefined) return [];
  return db
    .transaction((): IdleRelease[] => {
      const rows = select.all(seenBefore);
      const release = statement(
        db,
        "UPDATE app_installs SET licensed = 0, licensed_at = NULL, released_at = ?, released_by = 'idle' WHERE id = ?",
      );
      for (const r of rows) {
        release.run(now, r.id);
        appendAudit(db, {
          at: now,
          operator: null,
          action: 'app.release-idle',
          outcome: 'ok',
          rootGroup: r.root_group,
          target: r.instance_id,
          oldValue: { licensed: [r.number], lastSeen: formatIsoUtc(r.last_seen) },
          newValue: { licensed: [], idleAfterSeconds: Math.floor(idleMs / 1000) },
        });
      }
      return rows.map((r) => ({ instanceId: r.instance_id, number: r.number, rootGroup: r.root_group, lastSeen: r.last_seen }));
    })
    .immediate();
}
