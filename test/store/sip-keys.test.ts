import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { flowTokenKey } from '../../src/store/sip-keys.js';
import { T0 } from './temp-db.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the flow token key in the database', () => {
  it('is made once, 32 random bytes, and read back the same by every later connection', () => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-keys-'));
    const path = join(dir, 'k.db');
    const first = openDatabase(path, { create: true });
    const key = flowTokenKey(first, T0);
    first.close();
    expect(key).toHaveLength(32);
    const again = openDatabase(path);
    try {
      expect(flowTokenKey(again, T0 + 1).equals(key)).toBe(true);
      expect(again.prepare('SELECT count(*) FROM sip_keys').pluck().get()).toBe(1);
    } finally {
      again.close();
    }
    const other = openDatabase(join(dir, 'other.db'), { create: true });
    try {
      expect(flowTokenKey(other, T0).equals(key)).toBe(false);
    } finally {
      other.close();
    }
  });

  it('is added to a database made before it existed (the schema before sip_keys), on its first use', () => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-keys-'));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    const added = MIGRATIONS.find((x) => x.name === 'sip keys')?.version ?? 0;
    const before = MIGRATIONS.filter((x) => x.version < added);
    for (const m of before) old.exec(m.sql);
    old.pragma(`user_version = ${before.at(-1)?.version ?? 0}`);
    old.close();
    const db = openDatabase(path);
    try {
      expect(flowTokenKey(db, T0)).toHaveLength(32);
      expect(() => db.prepare("INSERT INTO sip_keys (name, key, created_at) VALUES ('short', x'00', 0)").run()).toThrow(/CHECK constraint failed/);
    } finally {
      db.close();
    }
  });
});
