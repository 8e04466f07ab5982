import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import type { ConfigDocument } from '../../src/store/config-document.js';
import { exportConfig } from '../../src/store/config-export.js';
import { importConfig } from '../../src/store/config-import.js';
import { parseConfigDocument } from '../../src/store/config-schema.js';
import { addGroup } from '../../src/store/groups.js';
import { getLicenses, setLicenses } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import { addOperator, authenticate, createFirstOperator } from '../../src/store/operators.js';
import { addUser, findUser } from '../../src/store/users.js';
import { count, ctx, DAY, fingerprint, ok, T0, tempDb, type TempDb } from './temp-db.js';

let source: TempDb;
let target: TempDb;
beforeEach(() => {
  source = tempDb();
  target = tempDb();
  ok(createFirstOperator(source.db, T0));
  ok(createFirstOperator(target.db, T0));
});
afterEach(() => {
  source.close();
  target.close();
});

function seed(): void {
  const db = source.db;
  ok(addGroup(db, { name: 'Sunrise' }, ctx));
  ok(addGroup(db, { name: 'Block A', parent: 'Sunrise' }, ctx));
  ok(addGroup(db, { name: 'Floor 1', parent: 'Block A' }, ctx));
  ok(addGroup(db, { name: 'Harbour' }, ctx));
  ok(setLicenses(db, 'Sunrise', { restrictions: true, virtualNumbers: 4, mobileApps: 2, validity: true, validFrom: T0, validUntil: T0 + 365 * DAY, remindDays: 30, remindRepeat: 'weekly' }, ctx));
  ok(addUser(db, { login: 'alice', group: 'Floor 1', personalNumbers: 2, personalApps: 1 }, ctx));
  ok(addUser(db, { login: 'bob', group: 'Harbour' }, ctx));
  ok(addNumber(db, { number: '1002', login: 'alice' }, { ...ctx, now: T0 + 1 }));
  ok(addNumber(db, { number: '1001', login: 'alice' }, { ...ctx, now: T0 + 2 }));
  ok(addNumber(db, { number: '3001', login: 'bob' }, { ...ctx, now: T0 + 3 }));
  ok(addOperator(db, { name: 'carol', permissions: ['licenses:edit'] }, ctx));
}

const full = { allowOperatorChanges: true };

function doc(overrides: Partial<ConfigDocument> = {}): ConfigDocument {
  return { ...exportConfig(source.db), ...overrides };
}

describe('export / import', () => {
  it('round-trips: importing an export into a fresh database exports the same document', () => {
    seed();
    const exported = exportConfig(source.db);
    const parsed = parseConfigDocument(JSON.parse(JSON.stringify(exported)));
    if (!parsed.ok) throw new Error(parsed.message);
    const summary = ok(importConfig(target.db, parsed.document, ctx, full));
    expect(summary).toMatchObject({ groups: 4, users: 2, numbers: 3, operatorsUpdated: [] });
    expect(summary.operatorsCreated.map((o) => o.name)).toEqual(['carol']);
    expect(authenticate(target.db, summary.operatorsCreated[0]?.token ?? '')?.permissions).toEqual(['licenses:edit']);
    expect(exportConfig(target.db)).toEqual(exported);
    expect(getLicenses(target.db, 1)?.remindRepeat).toBe('weekly');
    // The counters follow the imported rows.
    const sunrise = getLicenses(target.db, 1);
    expect(sunrise).toMatchObject({ group: 'Sunrise', numbersUsed: 2 });
    expect(findUser(target.db, 'alice')?.numbersUsed).toBe(2);
    expect(listAudit(target.db).filter((e) => e.action === 'import').map((e) => e.rootGroup)).toEqual(['Sunrise', 'Harbour']);
  });

  it('imports a file written before reminders repeated with the reminder sent once', () => {
    seed();
    const exported = exportConfig(source.db);
    const old = JSON.parse(JSON.stringify(exported)) as { groups: { licenses?: Record<string, unknown> }[] };
    for (const g of old.groups) delete g.licenses?.remindRepeat;
    const parsed = parseConfigDocument(old);
    if (!parsed.ok) throw new Error(parsed.message);
    ok(importConfig(target.db, parsed.document, ctx, full));
    expect(getLicenses(target.db, 1)?.remindRepeat).toBe('once');
  });

  it('never exports a token or its hash', () => {
    seed();
    const text = JSON.stringify(exportConfig(source.db));
    const hashes = source.db.prepare('SELECT token_hash FROM operators').pluck().all() as string[];
    for (const h of hashes) expect(text).not.toContain(h);
    expect(text).not.toMatch(/token/i);
  });

  type Case = [string, (d: ConfigDocument) => ConfigDocument, string, 'invalid' | 'conflict' | 'limit'];
  const refused: Case[] = [
    ['a parent missing from the file', (d) => ({ ...d, groups: d.groups.filter((g) => g.name !== 'Block A') }), 'groups[1].parent', 'invalid'],
    ['licences on a subgroup', (d) => ({ ...d, groups: d.groups.map((g) => (g.name === 'Block A' ? { ...g, licenses: d.groups[0]?.licenses } : g)) }), 'groups[1].licenses', 'invalid'],
    ['apps above numbers', (d) => ({ ...d, groups: d.groups.map((g, i) => (i === 0 && g.licenses ? { ...g, licenses: { ...g.licenses, mobileApps: 9 } } : g)) }), 'groups[0].licenses.mobileApps', 'invalid'],
    ['an end before the start', (d) => ({ ...d, groups: d.groups.map((g, i) => (i === 0 && g.licenses ? { ...g, licenses: { ...g.licenses, validUntil: '2025-01-01' } } : g)) }), 'groups[0].licenses.validUntil', 'invalid'],
    ['a personal license above the group limit', (d) => ({ ...d, users: d.users.map((u) => (u.login === 'alice' ? { ...u, personalNumbers: 5 } : u)) }), 'users[0].personalNumbers', 'invalid'],
    ['a duplicate number', (d) => ({ ...d, numbers: [...d.numbers, { number: '1001', user: 'bob', createdAt: '2026-01-01' }] }), 'numbers[3].number', 'invalid'],
    ['a number of an unknown user', (d) => ({ ...d, numbers: [...d.numbers, { number: '9', user: 'zed', createdAt: '2026-01-01' }] }), 'numbers[3].user', 'invalid'],
    ['numbers above the group limit', (d) => ({ ...d, groups: d.groups.map((g, i) => (i === 0 && g.licenses ? { ...g, licenses: { ...g.licenses, virtualNumbers: 1, mobileApps: 1 } } : g)), users: d.users.map((u) => ({ ...u, personalNumbers: null })) }), 'numbers', 'limit'],
    ['numbers above a personal license', (d) => ({ ...d, users: d.users.map((u) => (u.login === 'alice' ? { ...u, personalNumbers: 1 } : u)) }), 'numbers', 'limit'],
    ['an unknown permission', (d) => ({ ...d, operators: [{ name: 'x', permissions: ['root'] }] }), 'operators[0].permissions', 'invalid'],
    ['no operator left with operators:edit', (d) => ({ ...d, operators: [{ name: 'admin', permissions: [] }] }), 'operators', 'invalid'],
  ];
  for (const [what, mutate, field, kind] of refused) {
    it(`refuses ${what}, writing nothing`, () => {
      seed();
      const before = fingerprint(target.db);
      expect(importConfig(target.db, mutate(doc()), ctx, full)).toMatchObject({ ok: false, failure: { kind, field } });
      expect(fingerprint(target.db)).toBe(before);
    });
  }

  // Every entry before the bad one has been written by then (through the repositories): the
  // transaction must take all of them back, their audit entries too.
  const lastBad: [string, (d: ConfigDocument) => ConfigDocument, string][] = [
    ['number', (d) => ({ ...d, numbers: [...d.numbers, { number: 'not a number', user: 'bob', createdAt: '2026-01-01' }] }), 'numbers[3].number'],
    ['operator', (d) => ({ ...d, operators: [...(d.operators ?? []), { name: 'no spaces please', permissions: [] }] }), 'operators[2].name'],
  ];
  for (const [what, mutate, field] of lastBad) {
    it(`refuses a file whose last ${what} is bad, leaving every table row for row as it was, the audit log too`, () => {
      seed();
      ok(addGroup(target.db, { name: 'Elsewhere' }, ctx));
      const before = fingerprint(target.db);
      const auditBefore = listAudit(target.db).length;
      expect(importConfig(target.db, mutate(doc()), ctx, full)).toMatchObject({ ok: false, failure: { kind: 'invalid', field } });
      expect(fingerprint(target.db)).toBe(before);
      expect(listAudit(target.db)).toHaveLength(auditBefore);
    });
  }

  it('writes through the repositories: each added row has the audit entry its command writes, at the time of the import', () => {
    seed();
    const at = T0 + 9 * DAY;
    ok(importConfig(target.db, doc(), { ...ctx, now: at }, full));
    const entries = listAudit(target.db).filter((e) => e.at === at);
    expect(entries.map((e) => `${e.action} ${e.target ?? ''}`)).toEqual([
      'group.add Sunrise',
      'group.add Block A',
      'group.add Floor 1',
      'group.add Harbour',
      'user.add alice',
      'user.add bob',
      'number.add 1002',
      'number.add 1001',
      'number.add 3001',
      'operator.add carol',
      'import Sunrise',
      'import Harbour',
    ]);
    expect(entries[0]?.newValue).toMatchObject({ name: 'Sunrise', parent: null, licenses: { virtualNumbers: 4, remindRepeat: 'weekly' } });
  });

  it('adds new trees only: an existing group is a conflict', () => {
    seed();
    ok(addGroup(target.db, { name: 'Harbour' }, ctx));
    const before = fingerprint(target.db);
    expect(importConfig(target.db, doc(), ctx, full)).toMatchObject({ ok: false, failure: { kind: 'conflict', field: 'groups[3].name' } });
    expect(fingerprint(target.db)).toBe(before);
  });

  it('does not touch operators without permission to', () => {
    seed();
    expect(importConfig(target.db, doc(), ctx, { allowOperatorChanges: false })).toMatchObject({ ok: false, failure: { field: 'operators' } });
    ok(importConfig(target.db, doc({ operators: undefined }), ctx, { allowOperatorChanges: false }));
    expect(count(target.db, 'operators')).toBe(1);
  });

  it('validates the file shape with a path to the first problem', () => {
    const bad = parseConfigDocument({ format: 'sipwarden-config', version: 1, groups: [{ name: 'A', parent: null, createdAt: 'soon' }], users: [], numbers: [] });
    expect(bad).toMatchObject({ ok: false, path: 'groups[0].createdAt' });
    expect(parseConfigDocument({ format: 'other' })).toMatchObject({ ok: false, path: 'format' });
    expect(parseConfigDocument({ format: 'sipwarden-config', version: 1, groups: [], users: [], numbers: [], extra: 1 })).toMatchObject({ ok: false });
    expect(parseConfigDocument([])).toMatchObject({ ok: false });
  });
});
