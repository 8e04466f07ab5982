import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import {
  addOperator,
  authenticate,
  changePermissions,
  createFirstOperator,
  hashToken,
  listOperators,
  removeOperator,
} from '../../src/store/operators.js';
import { ctx, fingerprint, ok, T0, tempDb, type TempDb } from './temp-db.js';

let t: TempDb;
let adminToken: string;
beforeEach(() => {
  t = tempDb();
  adminToken = ok(createFirstOperator(t.db, T0)).token;
});
afterEach(() => t.close());

describe('operators', () => {
  it('gives the first operator every permission, once', () => {
    expect(authenticate(t.db, adminToken)?.permissions).toEqual(['groups:edit', 'licenses:edit', 'operators:edit', 'users:edit']);
    expect(createFirstOperator(t.db, T0)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(listAudit(t.db)).toMatchObject([{ action: 'init', operator: 'admin', outcome: 'ok' }]);
  });

  it('stores only the SHA-256 of a 32-byte base64url token', () => {
    const { token } = ok(addOperator(t.db, { name: 'carol', permissions: ['users:edit'] }, ctx));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = t.db.prepare("SELECT token_hash FROM operators WHERE name = 'carol'").pluck().get();
    expect(stored).toBe(hashToken(token));
    expect(fingerprint(t.db)).not.toContain(token);
    expect(authenticate(t.db, token)?.name).toBe('carol');
    expect(authenticate(t.db, `${token}x`)).toBeUndefined();
    expect(authenticate(t.db, hashToken(token))).toBeUndefined();
  });

  it('refuses unknown permissions, duplicate and bad names', () => {
    const before = fingerprint(t.db);
    expect(addOperator(t.db, { name: 'carol', permissions: ['root'] }, ctx)).toMatchObject({ ok: false, failure: { field: 'permission' } });
    expect(addOperator(t.db, { name: 'admin', permissions: [] }, ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(addOperator(t.db, { name: 'no spaces', permissions: [] }, ctx)).toMatchObject({ ok: false, failure: { kind: 'invalid' } });
    expect(changePermissions(t.db, 'admin', ['nope'], true, ctx)).toMatchObject({ ok: false });
    expect(fingerprint(t.db)).toBe(before);
  });

  it('grants and revokes, auditing old and new permissions', () => {
    ok(addOperator(t.db, { name: 'carol', permissions: [] }, ctx));
    expect(ok(changePermissions(t.db, 'carol', ['licenses:edit', 'users:edit'], true, ctx)).after).toEqual(['licenses:edit', 'users:edit']);
    expect(ok(changePermissions(t.db, 'carol', ['users:edit'], false, ctx)).after).toEqual(['licenses:edit']);
    expect(listAudit(t.db).at(-1)).toMatchObject({
      action: 'operator.revoke',
      oldValue: { permissions: ['licenses:edit', 'users:edit'] },
      newValue: { permissions: ['licenses:edit'] },
    });
  });

  it('never leaves the database without an operator that can manage operators', () => {
    const before = fingerprint(t.db);
    expect(removeOperator(t.db, 'admin', ctx)).toMatchObject({ ok: false, failure: { kind: 'conflict' } });
    expect(changePermissions(t.db, 'admin', ['operators:edit'], false, ctx)).toMatchObject({ ok: false });
    expect(fingerprint(t.db)).toBe(before);
    ok(addOperator(t.db, { name: 'carol', permissions: ['operators:edit'] }, ctx));
    ok(removeOperator(t.db, 'admin', ctx));
    expect(listOperators(t.db).map((o) => o.name)).toEqual(['carol']);
    expect(authenticate(t.db, adminToken)).toBeUndefined();
  });
});
