import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/**
 * Prepared statements cached per connection: preparing costs more than running the small
 * queries of the hot paths (an app install claimed on every first REGISTER).
 */
const cache = new WeakMap<Db, Map<string, Statement>>();

export function statement<P extends unknown[] = unknown[], R = unknown>(db: Db, sql: string): Statement<P, R> {
  let perDb = cache.get(db);
  if (!perDb) {
    perDb = new Map();
    cache.set(db, perDb);
  }
  let stmt = perDb.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    perDb.set(sql, stmt);
  }
  return stmt as unknown as Statement<P, R>;
}

/**
 * `PRAGMA data_version` (moves when another connection commits) from a cached statement:
 * `db.pragma()` prepares a new one on every call, which the timers that poll it (snapshot reload,
 * lifecycle tick: several times a second) paid in full.
 */
export function dataVersion(db: Db): number {
  return statement<[], { data_version: number }>(db, 'PRAGMA data_version').get()?.data_version ?? 0;
}
