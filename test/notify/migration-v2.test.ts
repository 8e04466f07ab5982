import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LifecycleScheduler } from '../../src/notify/scheduler.js';
import { openDatabase } from '../../src/store/database.js';
import { getLicenses } from '../../src/store/license-settings.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DAY, T0 } from '../store/temp-db.js';

/* A database made by the previous version (schema 1) is upgraded in place, and its groups are adopted without events. */

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 2 (lifecycle and outbox)', () => {
  it('upgrades a version-1 database: remind_repeat defaults to once, no event for existing windows', () => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-migrate-'));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]?.sql ?? '');
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (1, ?, NULL, 1, ?)').run('Lapsed', T0);
    old.prepare('INSERT INTO licenses (group_id, restrictions, validity, valid_from, valid_until, updated_at) VALUES (1, 1, 1, ?, ?, ?)').run(T0 - 10 * DAY, T0 - DAY, T0);
    old.close();

    const db = openDatabase(path);
    try {
      // Upgraded through 2 to the latest schema.
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
      expect(getLicenses(db, 1)?.remindRepeat).toBe('once');
      const written = new LifecycleScheduler(db).tick(T0).written;
      expect(written).toEqual([]);
      expect(db.prepare('SELECT state FROM license_lifecycle WHERE group_id = 1').pluck().get()).toBe('expired');
      expect(() => db.prepare("UPDATE licenses SET remind_repeat = 'hourly' WHERE group_id = 1").run()).toThrow(/CHECK constraint failed/);
    } finally {
      db.close();
    }
  });
});
