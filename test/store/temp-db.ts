import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import type { ChangeContext } from '../../src/store/change-context.js';
import type { Outcome } from '../../src/store/outcome.js';

export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;
export const ctx: ChangeContext = { now: T0, operator: 'tester' };

/** A real SQLite file in a fresh temp folder; `close()` removes both. */
export interface TempDb {
  readonly db: Db;
  readonly path: string;
  close(): void;
}

export function tempDb(prefix = 'sipwarden-store-'): TempDb {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'store.db');
  const db = openDatabase(path, { create: true });
  return {
    db,
    path,
    close() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of an outcome that must succeed (the test fails with the store's message otherwise). */
export function ok<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.failure.kind} ${outcome.failure.field}: ${outcome.failure.message}`);
  return outcome.value;
}

/** Every row of every table, in a stable order: equal fingerprints mean nothing was written. */
export function fingerprint(db: Db, except: readonly string[] = []): string {
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]
  ).filter((t) => !except.includes(t));
  return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
}

export function count(db: Db, table: string): number {
  return db.prepare(`SELECT COUNT(*) FROM "${table}"`).pluck().get() as number;
}
