import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning, oneErrorLine } from './cli-harness.js';
import { seedInstallation } from './seed.js';

/*
 * Every refused input: the right exit code, one line on stderr naming the field and what is
 * expected, nothing on stdout, and nothing written (every row of every table unchanged), but for
 * a limit refusal (exit 4) its one 'refused' audit row.
 */

let w: CliWorld;
let before: string;
let auditBefore: number;
beforeAll(async () => {
  w = await new CliWorld().init();
  await seedInstallation(w);
  writeFileSync(join(w.dir, 'not-json.json'), '{"format": "sipwarden-config",');
  writeFileSync(join(w.dir, 'bad-shape.json'), JSON.stringify({ format: 'sipwarden-config', version: 1, groups: [{ name: 'X', parent: null, createdAt: 'soon' }], users: [], numbers: [] }));
  writeFileSync(
    join(w.dir, 'over-limit.json'),
    JSON.stringify({
      format: 'sipwarden-config',
      version: 1,
      groups: [{ name: 'Tiny', parent: null, createdAt: '2026-01-01', licenses: { restrictions: true, virtualNumbers: 1, mobileApps: 0, validity: false, validFrom: null, validUntil: null, remindDays: null } }],
      users: [{ login: 'tina', group: 'Tiny', personalNumbers: null, personalApps: null, createdAt: '2026-01-01' }],
      numbers: [
        { number: '7001', user: 'tina', createdAt: '2026-01-01' },
        { number: '7002', user: 'tina', createdAt: '2026-01-01' },
      ],
    }),
  );
  before = w.fingerprint(['audit_log']);
  auditBefore = w.lastAuditId();
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

type Case = readonly [what: string, args: readonly string[], code: number, stderr: RegExp];

const cases: Case[] = [
  // licenses set
  ['a negative limit', ['licenses', 'set', 'Sunrise', '--numbers', '-1'], 2, /--numbers <n>' argument '-1' is invalid\. expected a non-negative integer/],
  ['a fractional limit', ['licenses', 'set', 'Sunrise', '--apps', '1.5'], 2, /--apps <n>' argument '1\.5' is invalid\. expected a non-negative integer/],
  ['a word as a limit', ['licenses', 'set', 'Sunrise', '--numbers', 'ten'], 2, /--numbers .*non-negative integer/],
  ['apps above the stored numbers', ['licenses', 'set', 'Sunrise', '--apps', '4'], 2, /^sipwarden: --apps: the mobile-app limit \(4\) is above the virtual-number limit \(3\); expected at most 3$/],
  ['apps above the new numbers', ['licenses', 'set', 'Sunrise', '--numbers', '5', '--apps', '6'], 2, /--apps: .*above the virtual-number limit \(5\)/],
  ['an end before the stored start', ['licenses', 'set', 'Sunrise', '--valid-until', '2025-06-01'], 2, /--valid-until: the end of validity \(2025-06-01T00:00:00Z\) is not after its start/],
  ['an empty window', ['licenses', 'set', 'Sunrise', '--valid-from', '2027-01-01', '--valid-until', '2027-01-01T00:00:00Z'], 2, /--valid-until: .*not after/],
  ['an unparseable time', ['licenses', 'set', 'Sunrise', '--valid-until', 'next week'], 2, /--valid-until <time>' argument 'next week' is invalid\. expected an ISO 8601 time/],
  ['an impossible date', ['licenses', 'set', 'Sunrise', '--valid-from', '2026-02-30'], 2, /--valid-from .*ISO 8601/],
  ['a time without a zone', ['licenses', 'set', 'Sunrise', '--valid-until', '2030-01-01T10:00:00'], 2, /--valid-until .*with Z or an offset/],
  ['licences on a subgroup', ['licenses', 'set', 'Block A', '--numbers', '1'], 2, /^sipwarden: ROOT_GROUP: group 'Block A' is not a root group; licences are set on the root group of its tree \('Sunrise'\)$/],
  ['licences of an unknown group', ['licenses', 'set', 'Nope', '--numbers', '1'], 2, /ROOT_GROUP: group 'Nope' does not exist/],
  ['showing licences of a subgroup', ['licenses', 'show', 'Block A'], 2, /ROOT_GROUP: .*not a root group/],
  ['nothing to set', ['licenses', 'set', 'Sunrise'], 2, /nothing to change; expected at least one of --restrictions/],
  ['restrictions neither on nor off', ['licenses', 'set', 'Sunrise', '--restrictions', 'maybe'], 2, /--restrictions .*expected 'on' or 'off'/],
  ['--no-validity with a bound', ['licenses', 'set', 'Sunrise', '--no-validity', '--valid-until', '2030-01-01'], 2, /--no-validity: cannot be combined/],
  ['a limit below a personal license', ['licenses', 'set', 'Sunrise', '--numbers', '0', '--apps', '0'], 2, /--numbers: user 'alice' has a personal license of 1 virtual numbers, above the new limit 0/],
  ['a bad reminder', ['licenses', 'set', 'Sunrise', '--remind-days', 'soon'], 2, /--remind-days .*non-negative integer or 'none'/],
  // users
  ['a personal license above the group (numbers)', ['user', 'add', 'carl', '--group', 'Sunrise', '--numbers', '4'], 2, /^sipwarden: --numbers: a personal license of 4 virtual numbers is above the limit of root group 'Sunrise' \(3\); expected at most 3$/],
  ['a personal license above the group (apps)', ['user', 'add', 'carl', '--group', 'Block A', '--apps', '3'], 2, /--apps: .*above the limit of root group 'Sunrise' \(2\)/],
  ['a user in an unknown group', ['user', 'add', 'carl', '--group', 'Nope'], 2, /--group: group 'Nope' does not exist/],
  ['a duplicate login', ['user', 'add', 'alice', '--group', 'Sunrise'], 2, /LOGIN: user 'alice' already exists; expected a new login/],
  ['a malformed login', ['user', 'add', 'two words', '--group', 'Sunrise'], 2, /LOGIN: 'two words' is not a valid name/],
  ['a user without a group', ['user', 'add', 'carl'], 2, /required option '--group <group>' not specified/],
  ['raising a personal license above the group', ['user', 'licenses', 'alice', '--numbers', '4'], 2, /--numbers: a personal license of 4/],
  ['a negative personal license', ['user', 'licenses', 'alice', '--apps', '-2'], 2, /--apps .*non-negative integer or 'none'/],
  ['licenses of an unknown user', ['user', 'licenses', 'nobody', '--numbers', '1'], 2, /LOGIN: user 'nobody' does not exist/],
  ['no personal license to set', ['user', 'licenses', 'alice'], 2, /nothing to change; expected --numbers and\/or --apps/],
  ['showing an unknown user', ['user', 'show', 'nobody'], 2, /LOGIN: user 'nobody' does not exist/],
  ['removing a user with numbers', ['user', 'remove', 'bob'], 2, /LOGIN: user 'bob' still owns 2 virtual number\(s\); remove them first/],
  ['users of an unknown group', ['user', 'list', '--group', 'Nope'], 2, /--group: group 'Nope' does not exist/],
  // numbers
  ['a duplicate number', ['number', 'add', '1001', '--user', 'bob'], 2, /NUMBER: number '1001' already exists \(user 'alice'\); expected a new number/],
  ['a malformed number', ['number', 'add', '10 01', '--user', 'bob'], 2, /NUMBER: '10 01' is not a valid virtual number; expected the user part of a SIP address/],
  ['a number of an unknown user', ['number', 'add', '3001', '--user', 'nobody'], 2, /--user: user 'nobody' does not exist/],
  ['a number without a user', ['number', 'add', '3001'], 2, /required option '--user <login>' not specified/],
  ['removing an unknown number', ['number', 'remove', '9999'], 2, /NUMBER: number '9999' does not exist/],
  ['numbers of an unknown group', ['number', 'list', '--group', 'Nope'], 2, /--group: group 'Nope' does not exist/],
  ["a number beyond the tree's limit", ['number', 'add', '2003', '--user', 'bob'], 4, /^sipwarden: number 2003 refused: root group 'Sunrise' uses 3 of its 3 virtual-number licenses; raise the limit/],
  // groups
  ['a duplicate group', ['group', 'add', 'Sunrise'], 2, /NAME: group 'Sunrise' already exists; expected a new name/],
  ['an unknown parent', ['group', 'add', 'X', '--parent', 'Nope'], 2, /--parent: group 'Nope' does not exist/],
  ['removing a group with subgroups', ['group', 'remove', 'Sunrise'], 2, /GROUP: group 'Sunrise' still has 1 subgroup\(s\) \(Block A\); remove them first/],
  ['removing a group with users', ['group', 'remove', 'Block A'], 2, /GROUP: group 'Block A' still has 1 user\(s\)/],
  ['removing an unknown group', ['group', 'remove', 'Nope'], 2, /GROUP: group 'Nope' does not exist/],
  ['showing an unknown group', ['group', 'show', 'Nope'], 2, /GROUP: group 'Nope' does not exist/],
  // apps, operators, audit, check
  ['releasing an unknown install', ['app', 'release', 'urn:uuid:nope'], 2, /INSTANCE_ID: app install 'urn:uuid:nope' does not exist/],
  ['a duplicate operator', ['operator', 'add', 'admin'], 2, /NAME: operator 'admin' already exists/],
  ['an unknown permission', ['operator', 'add', 'x', '--permission', 'root'], 2, /PERMISSION: 'root' is not a permission; expected one of licenses:edit, groups:edit, users:edit, operators:edit/],
  ['granting to an unknown operator', ['operator', 'grant', 'nobody', 'users:edit'], 2, /NAME: operator 'nobody' does not exist/],
  ['removing the last operator editor', ['operator', 'remove', 'admin'], 2, /NAME: operator 'admin' is the last one with operators:edit/],
  ['revoking the last operator editor', ['operator', 'revoke', 'admin', 'operators:edit'], 2, /last one with operators:edit/],
  ['an unparseable --since', ['audit', '--since', 'last week'], 2, /--since <time>' argument 'last week' is invalid/],
  ['an unknown method', ['check', '1001', '--method', 'options'], 2, /--method <method>' argument 'options' is invalid\. Allowed choices are register, invite/],
  ['--to on a REGISTER', ['check', '1001', '--to', '2001'], 2, /--to: only an INVITE has a called number; expected --method invite/],
  ['an unparseable --at', ['check', '1001', '--at', 'noon'], 2, /--at <time>' argument 'noon' is invalid/],
  // usage
  ['an unknown option', ['group', 'list', '--bogus'], 2, /^sipwarden: unknown option '--bogus'; see 'sipwarden group list --help'$/],
  ['an unknown command', ['frobnicate'], 2, /unknown command 'frobnicate'/],
  ['a missing argument', ['group', 'add'], 2, /^sipwarden: missing required argument 'name'; see 'sipwarden group add --help'$/],
  ['a missing subcommand', ['licenses'], 2, /^sipwarden: 'sipwarden licenses' needs a command; expected one of: show, set/],
  ['too many arguments', ['group', 'show', 'a', 'b'], 2, /too many arguments for 'show'/],
  // import / database
  ['an unreadable import file', ['import', '/nonexistent/file.json'], 2, /FILE: cannot read \/nonexistent\/file.json \(ENOENT\)/],
  ['an import file that is not JSON', ['import', 'DIR/not-json.json'], 2, /FILE: .*not-json.json is not JSON/],
  ['an import file of the wrong shape', ['import', 'DIR/bad-shape.json'], 2, /^sipwarden: FILE: groups\[0\]\.createdAt: expected an ISO 8601 time/],
  ['an import above a limit', ['import', 'DIR/over-limit.json'], 4, /^sipwarden: FILE: numbers: root group 'Tiny' would have 2 virtual numbers, above its limit of 1/],
];

describe.concurrent('refused input writes nothing', () => {
  it.each(cases)('%s', async (_what, args, code, stderr) => {
    const r = await w.run(args.map((a) => a.replace('DIR', w.dir)));
    expect(r.code).toBe(code);
    expect(oneErrorLine(r)).toMatch(stderr);
    expect(r.stdout).toBe('');
    expect(w.fingerprint(['audit_log'])).toBe(before);
    // The cases run at once: only limit refusals write, and only their own audit row.
    const written = w.auditSince(auditBefore);
    expect(written.every((a) => a.outcome === 'refused')).toBe(true);
    const expanded = args.map((a) => a.replace('DIR', w.dir));
    if (code === 4) expect(written.filter((a) => a.target !== null && expanded.includes(a.target))).toHaveLength(1);
  });

  it('a missing database', async () => {
    const r = await w.run(['--db', join(w.dir, 'none.db'), 'group', 'list']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--db: database .*none.db does not exist; expected the path of a database made by 'sipwarden init'/);
  });
});
