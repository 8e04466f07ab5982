import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { findNumber } from '../../src/store/numbers.js';
import { T0 } from './temp-db.js';

/*
 * Migration 3: numbers stored as the SIP server matches AoRs (ASCII lower case). A database made
 * before it may hold `LOBBY`; the registrar binds `lobby`, so the sidecar must find it as `lobby`.
 */

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function version2Database(numbers: readonly string[]): string {
  dir = mkdtempSync(join(tmpdir(), 'sipwarden-migrate-'));
  const path = join(dir, 'old.db');
  const old = new Database(path);
  for (const m of MIGRATIONS.filter((x) => x.version <= 2)) old.exec(m.sql);
  old.pragma('user_version = 2');
  old.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (1, ?, NULL, 1, ?)').run('Sunrise', T0);
  old.prepare('INSERT INTO licenses (group_id, restrictions, virtual_numbers, updated_at) VALUES (1, 1, 10, ?)').run(T0);
  old.prepare('INSERT INTO users (id, login, group_id, root_id, created_at) VALUES (1, ?, 1, 1, ?)').run('alice', T0);
  const add = old.prepare('INSERT INTO numbers (number, user_id, root_id, created_at) VALUES (?, 1, 1, ?)');
  for (const n of numbers) add.run(n, T0);
  old.close();
  return path;
}

describe('migration 3 (numbers matched case-insensitively)', () => {
  it('lower-cases stored numbers and bumps the revision of their trees', () => {
    const path = version2Database(['LOBBY', '1001', 'Gate-B']);
    const db = openDatabase(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
      expect(db.prepare('SELECT number FROM numbers ORDER BY id').pluck().all()).toEqual(['lobby', '1001', 'gate-b']);
      expect(db.prepare('SELECT revision FROM licenses WHERE group_id = 1').pluck().get()).toBe(3 + 1);
      expect(findNumber(db, 'LoBbY')?.number).toBe('lobby');
    } finally {
      db.close();
    }
  });

  it('refuses to merge two numbers that differ only in case, naming the problem, and changes nothing', () => {
    const path = version2Database(['Lobby', 'LOBBY']);
    expect(() => openDatabase(path)).toThrow(/numbers_differing_only_in_case_remove_one_first/);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare('SELECT number FROM numbers ORDER BY id').pluck().all()).toEqual(['Lobby', 'LOBBY']);
    } finally {
      db.close();
    }
  });
});
