import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_ACCESS, TOKENLESS_COMMANDS, type CommandAccess, type CommandName } from '../../src/cli/command-access.js';
import { buildProgram } from '../../src/cli/program.js';
import { claimInstall } from '../../src/store/app-installs.js';
import { addGroup } from '../../src/store/groups.js';
import { addNumber } from '../../src/store/numbers.js';
import { ALL_PERMISSIONS, type Permission } from '../../src/store/operators.js';
import { addUser } from '../../src/store/users.js';
import { CliWorld, killRunning, oneErrorLine } from './cli-harness.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { seedInstallationDirect } from './seed.js';

/*
 * Every command × every permission it needs (COMMAND_ACCESS): an operator holding every other
 * permission is refused (exit 3) with one 'denied' audit row and nothing else written; an operator
 * holding exactly the command's permissions runs it. A limit refusal (exit 4) is audited too.
 */

let w: CliWorld;
let importFile: string;
/** Operators holding every permission but one. */
const allBut = new Map<Permission, string>();
/** Operators holding exactly one set of permissions, by the set's key. */
const exactly = new Map<string, string>();

const key = (permissions: readonly string[]): string => [...permissions].sort().join(' ') || '(none)';

/** Arguments that succeed for an operator with the command's permissions, in the order they run. */
const SAMPLES = {
  'group add': ['group', 'add', 'Block B', '--parent', 'Sunrise'],
  'group list': ['group', 'list', '--json'],
  'group show': ['group', 'show', 'Sunrise', '--json'],
  'group remove': ['group', 'remove', 'Spare'],
  'licenses show': ['licenses', 'show', 'Sunrise', '--json'],
  'licenses set': ['licenses', 'set', 'Harbour', '--numbers', '5'],
  'user add': ['user', 'add', 'carl', '--group', 'Block A'],
  'user licenses': ['user', 'licenses', 'bob', '--numbers', '2'],
  'user list': ['user', 'list', '--json'],
  'user show': ['user', 'show', 'alice', '--json'],
  'user remove': ['user', 'remove', 'dave'],
  'number add': ['number', 'add', '8001', '--user', 'zoe'],
  'number list': ['number', 'list', '--json'],
  'number remove': ['number', 'remove', '8002'],
  'app list': ['app', 'list', '--json'],
  'app release': ['app', 'release', 'urn:uuid:app-2001'],
  'operator add': ['operator', 'add', 'zed'],
  'operator list': ['operator', 'list', '--json'],
  'operator remove': ['operator', 'remove', 'gone'],
  'operator grant': ['operator', 'grant', 'spare', 'groups:edit'],
  'operator revoke': ['operator', 'revoke', 'spare', 'groups:edit'],
  audit: ['audit', '--json'],
  'events list': ['events', 'list', '--json'],
  'events retry': ['events', 'retry', '1'],
  check: ['check', '1001', '--json'],
  export: ['export'],
  import: ['import', 'IMPORT_FILE'],
} as const satisfies Record<CommandName, readonly string[]>;

function args(name: CommandName): string[] {
  return SAMPLES[name].map((a) => (a === 'IMPORT_FILE' ? importFile : a));
}

beforeAll(async () => {
  w = await new CliWorld().init();
  seedInstallationDirect(w);
  w.direct((db, ctx) => {
    expect(addGroup(db, { name: 'Spare', parent: null }, ctx).ok).toBe(true);
    expect(addUser(db, { login: 'dave', group: 'Harbour' }, ctx).ok).toBe(true);
    expect(addUser(db, { login: 'zoe', group: 'Harbour' }, ctx).ok).toBe(true);
    expect(addNumber(db, { number: '8002', login: 'zoe' }, ctx).ok).toBe(true);
    const claimed = claimInstall(db, {
      instanceId: 'urn:uuid:app-2001',
      number: '2001',
      pnProvider: 'apns',
      pnPrid: 'secret-push-token',
      pnParam: 'ABCD.com.example.voip',
      contact: '<sip:2001@10.0.0.9>',
      userAgent: 'IntercomApp/3',
      now: Date.now(),
    });
    expect(claimed.ok).toBe(true);
  });
  w.operatorDirect('gone');
  w.operatorDirect('spare');
  for (const p of ALL_PERMISSIONS) allBut.set(p, w.operatorDirect(`all-but-${p.replace(':', '-')}`, ALL_PERMISSIONS.filter((q) => q !== p)));
  const sets = new Set(Object.values(COMMAND_ACCESS).map((a) => key(a.needs)));
  for (const set of sets) {
    const permissions = set === '(none)' ? [] : set.split(' ');
    exactly.set(set, w.operatorDirect(`only-${exactly.size}`, permissions));
  }
  importFile = join(w.dir, 'import.json');
  writeFileSync(
    importFile,
    JSON.stringify({
      format: 'sipwarden-config',
      version: 1,
      groups: [{ name: 'Imported', parent: null, createdAt: '2026-01-01T00:00:00Z' }],
      users: [{ login: 'ivy', group: 'Imported', personalNumbers: null, personalApps: null, createdAt: '2026-01-01T00:00:00Z' }],
      numbers: [{ number: '9001', user: 'ivy', createdAt: '2026-01-01T00:00:00Z' }],
    }),
  );
}, 120_000);
afterAll(() => {
  killRunning();
  w.remove();
});

/** Every table but the audit log. */
function dataFingerprint(): string {
  const tables = ['groups', 'licenses', 'users', 'numbers', 'app_installs', 'operators', 'operator_permissions', 'outbox'];
  return JSON.stringify(tables.map((t) => w.query(`SELECT * FROM ${t} ORDER BY rowid`)));
}

interface AuditRow {
  id: number;
  operator: string | null;
  action: string;
  outcome: string;
  root_group: string | null;
  target: string | null;
  new_value: string | null;
}

function auditRowsAfter(id: number): AuditRow[] {
  return w.query<AuditRow>('SELECT id, operator, action, outcome, root_group, target, new_value FROM audit_log WHERE id > ? ORDER BY id', id);
}

function lastAuditId(): number {
  return w.query<{ id: number | null }>('SELECT MAX(id) AS id FROM audit_log')[0]?.id ?? 0;
}

function leafCommands(cmd: CommandUnknownOpts, prefix: string[] = []): string[] {
  if (cmd.commands.length === 0) return [prefix.join(' ')];
  return cmd.commands.flatMap((c) => leafCommands(c, [...prefix, c.name()]));
}

const names = Object.keys(COMMAND_ACCESS) as CommandName[];
const withNeeds = names.filter((n) => COMMAND_ACCESS[n].needs.length > 0);

describe('command access table', () => {
  it('names every command of the CLI exactly once (or says it needs no token)', () => {
    const leaves = leafCommands(buildProgram()).filter((n) => n !== '');
    expect([...leaves].sort()).toEqual([...names, ...TOKENLESS_COMMANDS].sort());
  });

  it("is the README's Permissions table, row for row", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Permissions'), readme.indexOf('\n## ', readme.indexOf('### Permissions')));
    const documented = new Map<string, string[]>();
    for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
      const [commands = '', needs = ''] = row.split('|').slice(1, 3);
      const permissions = [...needs.matchAll(/`([a-z]+:edit)`/g)].map((m) => m[1] ?? '').sort();
      for (const m of commands.matchAll(/`([a-z ]+)`/g)) documented.set(m[1] ?? '', permissions);
    }
    const enforced = new Map(
      names.map((n) => {
        const a: CommandAccess = COMMAND_ACCESS[n];
        return [n, [...a.needs, ...(a.alsoWhen ? [a.alsoWhen.permission] : [])].sort()];
      }),
    );
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(enforced));
  });
});

describe('each command needs the permission of everything it reads or writes', () => {
  it.each(withNeeds.map((name) => ({ name, needs: COMMAND_ACCESS[name].needs.join(', ') })))(
    '$name is refused to an operator lacking any of $needs: exit 3, one denied audit row each, nothing else',
    async ({ name }) => {
      const data = dataFingerprint();
      const since = lastAuditId();
      const missing = COMMAND_ACCESS[name].needs;
      const runs = await Promise.all(missing.map((p) => w.run(args(name), allBut.get(p) ?? '')));
      for (const [i, r] of runs.entries()) {
        const p = missing[i] ?? '';
        expect(r.code, `${name} without ${p}: ${r.stderr}`).toBe(3);
        expect(oneErrorLine(r)).toMatch(new RegExp(`may not ${name.replace(' ', '\\.')}: it needs the permission ${p} \\(`));
        expect(r.stdout).toBe('');
      }
      expect(dataFingerprint()).toBe(data);
      const added = auditRowsAfter(since);
      expect(added.map((a) => [a.operator, a.action, a.outcome]).sort()).toEqual(
        missing.map((p) => [`all-but-${p.replace(':', '-')}`, name.replace(' ', '.'), 'denied']).sort(),
      );
    },
  );

  it.each(names.map((name) => ({ name, needs: key(COMMAND_ACCESS[name].needs) })))(
    '$name runs for an operator holding exactly $needs',
    async ({ name, needs }) => {
      const r = await w.run(args(name), exactly.get(needs) ?? '');
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
    },
  );

  it('app list shows no push token, Contact or User-Agent to an operator without users:edit', async () => {
    const r = await w.run(['app', 'list', '--json'], exactly.get('groups:edit') ?? '');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('secret-push-token');
  });

  it('import that changes operators needs operators:edit on top: one denied row, nothing imported', async () => {
    const file = join(w.dir, 'with-operator.json');
    writeFileSync(
      file,
      JSON.stringify({ format: 'sipwarden-config', version: 1, groups: [{ name: 'Other', parent: null, createdAt: '2026-01-01T00:00:00Z' }], users: [], numbers: [], operators: [{ name: 'mallory', permissions: ['operators:edit'] }] }),
    );
    const data = dataFingerprint();
    const since = lastAuditId();
    const r = await w.run(['import', file], exactly.get(key(COMMAND_ACCESS.import.needs)) ?? '');
    expect(r.code).toBe(3);
    expect(oneErrorLine(r)).toContain('needs the permission operators:edit');
    expect(dataFingerprint()).toBe(data);
    expect(auditRowsAfter(since)).toMatchObject([{ action: 'import', outcome: 'denied', target: file }]);
  });
});

describe('limit refusals are audited like permission refusals', () => {
  it('number add over the virtual-number limit: exit 4, one refused row naming the limit, nothing else', async () => {
    const data = dataFingerprint();
    const since = lastAuditId();
    const r = await w.run(['number', 'add', '2003', '--user', 'bob']);
    expect(r.code).toBe(4);
    const line = oneErrorLine(r);
    expect(dataFingerprint()).toBe(data);
    const added = auditRowsAfter(since);
    expect(added).toMatchObject([{ operator: 'admin', action: 'number.add', outcome: 'refused', root_group: 'Sunrise', target: '2003' }]);
    expect(JSON.parse(added[0]?.new_value ?? 'null')).toEqual({
      request: { number: '2003', user: 'bob' },
      refusal: line.replace(/^sipwarden: /, ''),
    });
    const shown = await w.json<{ action: string; outcome: string }[]>(['audit', '--group', 'Sunrise']);
    expect(shown.at(-1)).toMatchObject({ action: 'number.add', outcome: 'refused' });
  });

  it('import above a limit of the file: exit 4, one refused row, nothing imported', async () => {
    const file = join(w.dir, 'over-limit.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'sipwarden-config',
        version: 1,
        groups: [
          {
            name: 'Tight',
            parent: null,
            createdAt: '2026-01-01T00:00:00Z',
            licenses: { restrictions: true, virtualNumbers: 1, mobileApps: 0, validity: false, validFrom: null, validUntil: null, remindDays: null },
          },
        ],
        users: [{ login: 'tim', group: 'Tight', personalNumbers: null, personalApps: null, createdAt: '2026-01-01T00:00:00Z' }],
        numbers: [
          { number: '6001', user: 'tim', createdAt: '2026-01-01T00:00:00Z' },
          { number: '6002', user: 'tim', createdAt: '2026-01-01T00:00:00Z' },
        ],
      }),
    );
    const data = dataFingerprint();
    const since = lastAuditId();
    const r = await w.run(['import', file]);
    expect(r.code).toBe(4);
    expect(dataFingerprint()).toBe(data);
    expect(auditRowsAfter(since)).toMatchObject([{ action: 'import', outcome: 'refused', target: file }]);
  });
});
