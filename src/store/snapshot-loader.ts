import type { Statement } from 'better-sqlite3';
import { SnapshotBuilder, SnapshotIndex, type StaleGroups } from '../policy/snapshot-builder.js';
import type {
  GroupRecords,
  InstallRecord,
  LicenseRecord,
  NumberRecord,
  UserRecord,
} from '../policy/snapshot-records.js';
import type { EnforcementMode } from '../policy/enforcement-mode.js';
import type { Db } from './database.js';

/*
 * Reads the licence data into the policy's in-memory snapshot, through prepared statements. Every
 * read of a whole store or of one tree is one read transaction: in WAL mode it sees one
 * consistent state, including the revision it reports.
 *
 * The million-row numbers table is read in id ranges of NUMBER_CHUNK rows, one column per
 * `.pluck().all()`: better-sqlite3 spends most of its time building a JS array per row
 * (`.raw().iterate()` took ~1 µs a row), while plain columns come back at ~0.2 µs a value.
 */

const LICENSE_COLUMNS = `SELECT l.group_id, g.name, l.restrictions, l.virtual_numbers, l.mobile_apps,
  l.validity, l.valid_from, l.valid_until, l.revision, l.enforcement
  FROM licenses l JOIN groups g ON g.id = l.group_id`;
const USER_COLUMNS = 'SELECT id, login, root_id, personal_numbers, personal_apps FROM users';
const NUMBER_COLUMNS = 'SELECT number, user_id, root_id FROM numbers';
const NUMBER_CHUNK = 20_000;
const IN_CHUNK = 'FROM numbers WHERE id > ? AND id <= ? ORDER BY id';
const INSTALL_COLUMNS = `SELECT a.instance_id, n.number, a.user_id, a.root_id, a.sip_instance, a.pn_prid, a.contact
  FROM app_installs a JOIN numbers n ON n.id = a.number_id`;

interface Statements {
  readonly licenses: Statement<[], unknown[]>;
  readonly users: Statement<[], unknown[]>;
  readonly numberCount: Statement<[], unknown>;
  /** The last id of the next chunk after an id. */
  readonly chunkEnd: Statement<[number, number], unknown>;
  readonly chunkNumbers: Statement<[number, number], unknown>;
  readonly chunkUsers: Statement<[number, number], unknown>;
  readonly chunkRoots: Statement<[number, number], unknown>;
  readonly installs: Statement<[], unknown[]>;
  readonly license: Statement<[number], unknown[]>;
  readonly usersOf: Statement<[number], unknown[]>;
  readonly numbersOf: Statement<[number], unknown[]>;
  readonly installsOf: Statement<[number], unknown[]>;
  readonly revisions: Statement<[], unknown[]>;
}

const cache = new WeakMap<Db, Statements>();

function statements(db: Db): Statements {
  let s = cache.get(db);
  if (s !== undefined) return s;
  const raw = <P extends unknown[]>(sql: string): Statement<P, unknown[]> =>
    (db.prepare(sql) as Statement<P, unknown[]>).raw(true);
  const pluck = <P extends unknown[]>(sql: string): Statement<P, unknown> =>
    (db.prepare(sql) as Statement<P, unknown>).pluck(true);
  s = {
    licenses: raw(LICENSE_COLUMNS),
    users: raw(USER_COLUMNS),
    numberCount: pluck('SELECT count(*) FROM numbers'),
    chunkEnd: pluck('SELECT max(id) FROM (SELECT id FROM numbers WHERE id > ? ORDER BY id LIMIT ?)'),
    chunkNumbers: pluck(`SELECT number ${IN_CHUNK}`),
    chunkUsers: pluck(`SELECT user_id ${IN_CHUNK}`),
    chunkRoots: pluck(`SELECT root_id ${IN_CHUNK}`),
    installs: raw(`${INSTALL_COLUMNS} WHERE a.licensed = 1 ORDER BY a.licensed_at, a.id`),
    license: raw(`${LICENSE_COLUMNS} WHERE l.group_id = ?`),
    usersOf: raw(`${USER_COLUMNS} WHERE root_id = ?`),
    numbersOf: raw(`${NUMBER_COLUMNS} WHERE root_id = ? ORDER BY id`),
    installsOf: raw(`${INSTALL_COLUMNS} WHERE a.root_id = ? AND a.licensed = 1 ORDER BY a.licensed_at, a.id`),
    revisions: raw('SELECT group_id, revision FROM licenses'),
  };
  cache.set(db, s);
  return s;
}

function licenseRecord(row: unknown[]): LicenseRecord {
  return {
    rootId: row[0] as number,
    name: row[1] as string,
    restrictions: row[2] === 1,
    virtualNumbers: row[3] as number,
    mobileApps: row[4] as number,
    validity: row[5] === 1,
    validFrom: row[6] as number | null,
    validUntil: row[7] as number | null,
    revision: row[8] as number,
    enforcement: row[9] as EnforcementMode | null,
  };
}

function userRecord(row: unknown[]): UserRecord {
  return {
    userId: row[0] as number,
    login: row[1] as string,
    rootId: row[2] as number,
    personalNumbers: row[3] as number | null,
    personalApps: row[4] as number | null,
  };
}

function numberRecord(row: unknown[]): NumberRecord {
  return { number: row[0] as string, userId: row[1] as number, rootId: row[2] as number };
}

function installRecord(row: unknown[]): InstallRecord {
  return {
    instanceId: row[0] as string,
    number: row[1] as string,
    userId: row[2] as number,
    rootId: row[3] as number,
    keys: { instance: row[4] as string | null, prid: row[5] as string | null, contact: row[6] as string | null },
  };
}

/**
 * The whole store as a SnapshotIndex: every root group's Licences section, users, numbers (ranked
 * by `id`, i.e. creation order) and licensed installs (ranked by `licensed_at, id`).
 */
export function loadSnapshot(db: Db): SnapshotIndex {
  const s = statements(db);
  return db.transaction(() => {
    const b = new SnapshotBuilder(s.numberCount.get() as number);
    for (const row of s.licenses.iterate()) b.addLicense(licenseRecord(row));
    for (const row of s.users.iterate()) b.addUser(userRecord(row));
    // One reused record per row: the builder copies what it keeps.
    const n = { number: '', userId: 0, rootId: 0 };
    let last = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const end = s.chunkEnd.get(last, NUMBER_CHUNK) as number | null;
      if (end === null) break;
      const numbers = s.chunkNumbers.all(last, end) as string[];
      const users = s.chunkUsers.all(last, end) as number[];
      const roots = s.chunkRoots.all(last, end) as number[];
      for (let i = 0; i < numbers.length; i++) {
        n.number = numbers[i] as string;
        n.userId = users[i] as number;
        n.rootId = roots[i] as number;
        b.addNumber(n);
      }
      last = end;
    }
    for (const row of s.installs.iterate()) b.addInstall(installRecord(row));
    return b.build();
  })();
}

/**
 * Everything of one tree, for `SnapshotIndex.replaceGroup`; undefined when the root group (its
 * Licences section) no longer exists, so the tree is to be removed.
 */
export function loadGroup(db: Db, rootId: number): GroupRecords | undefined {
  const s = statements(db);
  return db.transaction((): GroupRecords | undefined => {
    const row = s.license.get(rootId);
    if (row === undefined) return undefined;
    return {
      license: licenseRecord(row),
      users: s.usersOf.all(rootId).map(userRecord),
      numbers: s.numbersOf.all(rootId).map(numberRecord),
      installs: s.installsOf.all(rootId).map(installRecord),
    };
  })();
}

/** `licenses.revision` of every root group: what `SnapshotIndex.staleGroups` compares against. */
export function readRevisions(db: Db): Map<number, number> {
  const revisions = new Map<number, number>();
  for (const row of statements(db).revisions.iterate()) revisions.set(row[0] as number, row[1] as number);
  return revisions;
}

/**
 * Brings `index` up to date with the store by reloading only the trees whose revision changed
 * and dropping the trees that are gone. `defer` may leave a changed tree as it is for now (told
 * the store's revision). Returns what it did.
 */
export function refreshSnapshot(
  db: Db,
  index: SnapshotIndex,
  defer: (rootId: number, revision: number) => boolean = () => false,
): StaleGroups {
  const revisions = readRevisions(db);
  const found = index.staleGroups(revisions);
  const stale = { changed: found.changed.filter((id) => !defer(id, revisions.get(id) ?? 0)), removed: found.removed };
  for (const rootId of stale.changed) {
    const records = loadGroup(db, rootId);
    if (records === undefined) index.removeGroup(rootId);
    else index.replaceGroup(rootId, records);
  }
  for (const rootId of stale.removed) index.removeGroup(rootId);
  return stale;
}

/**
 * A snapshot of only the trees that `numbers` belong to: what `sipwarden check` needs, without
 * reading a whole large database. Unknown numbers simply stay unknown.
 */
export function loadSnapshotFor(db: Db, numbers: readonly string[]): SnapshotIndex {
  return db.transaction(() => {
    const index = new SnapshotIndex();
    const rootOf = db.prepare<[string], number>('SELECT root_id FROM numbers WHERE number = ?').pluck();
    for (const number of new Set(numbers)) {
      const rootId = rootOf.get(number);
      if (rootId === undefined || index.revisionOf(rootId) !== undefined) continue;
      const records = loadGroup(db, rootId);
      if (records !== undefined) index.replaceGroup(rootId, records);
    }
    return index;
  })();
}
