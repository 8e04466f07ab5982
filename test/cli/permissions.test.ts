import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning, oneErrorLine } from './cli-harness.js';
import { seedInstallation } from './seed.js';

/*
 * Permissions: a missing or unknown token is refused (exit 3) before anything else and writes
 * nothing; a valid operator lacking a permission is refused (exit 3) and exactly one audit row
 * with outcome 'denied' is written, nothing else.
 */

let w: CliWorld;
let reader: string;
let userEditor: string;
let licenseEditor: string;
let exportFile: string;

beforeAll(async () => {
  w = await new CliWorld().init();
  await seedInstallation(w);
  reader = await w.operator('reader');
  userEditor = await w.operator('ed', ['users:edit']);
  licenseEditor = await w.operator('lic', ['licenses:edit']);
  exportFile = join(w.dir, 'export.json');
  writeFileSync(exportFile, await w.ok(['export']));
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

/** Every table but the audit log. */
function dataFingerprint(): string {
  const tables = ['groups', 'licenses', 'users', 'numbers', 'app_installs', 'operators', 'operator_permissions'];
  return JSON.stringify(tables.map((t) => w.query(`SELECT * FROM ${t} ORDER BY rowid`)));
}

interface AuditRow {
  operator: string | null;
  action: string;
  outcome: string;
  root_group: string | null;
  target: string | null;
}

function auditRows(): AuditRow[] {
  return w.query<AuditRow>('SELECT operator, action, outcome, root_group, target FROM audit_log ORDER BY id');
}

type Denied = readonly [args: readonly string[], permission: string, action: string, rootGroup: string | null, who?: 'reader' | 'ed'];

const denied: Denied[] = [
  [['licenses', 'show', 'Sunrise'], 'licenses:edit', 'licenses.show', 'Sunrise'],
  [['licenses', 'set', 'Sunrise', '--numbers', '50'], 'licenses:edit', 'licenses.set', 'Sunrise'],
  [['licenses', 'set', 'Sunrise', '--numbers', '50'], 'licenses:edit', 'licenses.set', 'Sunrise', 'ed'],
  [['export'], 'licenses:edit', 'export', null],
  [['import', 'EXPORT'], 'licenses:edit', 'import', null],
  [['app', 'list'], 'users:edit', 'app.list', null],
  [['app', 'list', '--group', 'Block A'], 'users:edit', 'app.list', 'Sunrise'],
  [['check', '1001'], 'licenses:edit', 'check', 'Sunrise'],
  [['audit', '--group', 'Harbour'], 'operators:edit', 'audit', 'Harbour', 'ed'],
  [['group', 'add', 'Block B', '--parent', 'Sunrise'], 'groups:edit', 'group.add', 'Sunrise'],
  [['group', 'remove', 'Harbour'], 'groups:edit', 'group.remove', 'Harbour', 'ed'],
  [['user', 'add', 'carl', '--group', 'Block A'], 'users:edit', 'user.add', 'Sunrise'],
  [['user', 'licenses', 'bob', '--numbers', '1'], 'users:edit', 'user.licenses', 'Sunrise'],
  [['user', 'remove', 'alice'], 'users:edit', 'user.remove', 'Sunrise'],
  [['number', 'add', '5555', '--user', 'bob'], 'users:edit', 'number.add', 'Sunrise'],
  [['number', 'remove', '1001'], 'users:edit', 'number.remove', 'Sunrise'],
  [['app', 'release', 'urn:uuid:x'], 'users:edit', 'app.release', null],
  [['operator', 'add', 'mallory', '--permission', 'operators:edit'], 'operators:edit', 'operator.add', null, 'ed'],
  [['operator', 'grant', 'reader', 'licenses:edit'], 'operators:edit', 'operator.grant', null],
  [['operator', 'revoke', 'admin', 'users:edit'], 'operators:edit', 'operator.revoke', null],
  [['operator', 'remove', 'admin'], 'operators:edit', 'operator.remove', null],
];

describe('permissions', () => {
  const rows = denied.map(([args, permission, action, rootGroup, who]) => ({
    command: args.join(' '),
    args,
    permission,
    action,
    rootGroup,
    who: who ?? 'reader',
  }));
  it.each(rows)('$command needs $permission: exit 3, one denied audit row, nothing else written', async ({ args, permission, action, rootGroup, who }) => {
    const data = dataFingerprint();
    const audit = auditRows();
    const r = await w.run(
      args.map((a) => a.replace('EXPORT', exportFile)),
      who === 'reader' ? reader : userEditor,
    );
    expect(r.code).toBe(3);
    expect(oneErrorLine(r)).toMatch(new RegExp(`needs the permissions? (.*, )?${permission} `));
    expect(r.stdout).toBe('');
    expect(dataFingerprint()).toBe(data);
    const after = auditRows();
    expect(after.slice(0, audit.length)).toEqual(audit);
    const added = after.slice(audit.length);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ operator: who === 'reader' ? 'reader' : 'ed', action, outcome: 'denied', root_group: rootGroup });
  });

  it('changing operators through import needs operators:edit too', async () => {
    const data = dataFingerprint();
    const fresh = await new CliWorld().init();
    try {
      const lic = await fresh.operator('lic', ['groups:edit', 'licenses:edit', 'users:edit']);
      const r = await fresh.run(['import', exportFile], lic);
      expect(r.code).toBe(3);
      expect(oneErrorLine(r)).toContain('needs the permission operators:edit');
      expect(fresh.query<{ n: number }>("SELECT COUNT(*) AS n FROM groups")[0]?.n).toBe(0);
      expect(fresh.query<AuditRow>("SELECT * FROM audit_log WHERE outcome = 'denied'")).toMatchObject([{ operator: 'lic', action: 'import' }]);
    } finally {
      fresh.remove();
    }
    expect(dataFingerprint()).toBe(data);
  });

  it.each([
    ['no token', null],
    ['an unknown token', 'not-a-token'],
    ['an empty token', ''],
  ] as const)('%s: exit 3 and nothing written, for reads and writes', async (_what, token) => {
    const before = w.fingerprint();
    for (const args of [['group', 'list'], ['licenses', 'set', 'Sunrise', '--numbers', '9']]) {
      const r = await w.run(args, token);
      expect(r.code).toBe(3);
      expect(oneErrorLine(r)).toMatch(/no token given; expected --token T or SIPWARDEN_TOKEN|the token is not valid/);
    }
    expect(w.fingerprint()).toBe(before);
  });

  it('--token works like SIPWARDEN_TOKEN', async () => {
    const r = await w.run(['--token', reader, 'group', 'list', '--json'], null);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
  });

  // Every other read needs a permission (see command-access.test.ts).
  it.each([
    ['group', 'list'],
    ['group', 'show', 'Sunrise'],
  ])('an operator without permissions may read the group tree: %s %s', async (...args) => {
    const r = await w.run([...args, '--json'], reader);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
  });

  it('licenses:edit alone is enough to view and change the Licences section', async () => {
    expect(await w.json(['licenses', 'show', 'Harbour'], licenseEditor)).toMatchObject({ group: 'Harbour', restrictions: false });
    await w.ok(['licenses', 'set', 'Harbour', '--numbers', '7'], licenseEditor);
    expect(auditRows().at(-1)).toMatchObject({ operator: 'lic', action: 'licenses.set', outcome: 'ok', root_group: 'Harbour' });
  });
});
