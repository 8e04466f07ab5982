import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimInstall } from '../../src/store/app-installs.js';
import { openDatabase } from '../../src/store/database.js';
import { CliWorld, killRunning } from './cli-harness.js';

/*
 * Every command through the built CLI, in the order an operator would use them, with its --json
 * output parsed and asserted. One database for the file: each test builds on the previous ones.
 */

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
});
afterAll(() => {
  killRunning();
  w.remove();
});

// Each test runs several CLI processes, one after the other: 60 s is a hang guard on a loaded box.
describe('sipwarden commands', { timeout: 60_000 }, () => {
  it('init printed a token that authenticates, and refuses a second init', async () => {
    expect(w.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await w.run(['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already has operators');
    // init made the proxy's flow token key (issue 9 item 3), and the refused second init kept it.
    const db = new Database(w.db, { readonly: true });
    try {
      const keys = db.prepare('SELECT name, length(key) AS bytes FROM sip_keys').all();
      expect(keys).toEqual([{ name: 'flow-token', bytes: 32 }]);
    } finally {
      db.close();
    }
  });

  it('group add / list / show', async () => {
    expect(await w.ok(['group', 'add', 'Sunrise'])).toContain("Added root group 'Sunrise'");
    await w.ok(['group', 'add', 'Block A', '--parent', 'Sunrise']);
    await w.ok(['group', 'add', 'Floor 1', '--parent', 'Block A']);
    await w.ok(['group', 'add', 'Harbour']);
    expect(await w.json(['group', 'list'])).toEqual([
      expect.objectContaining({ name: 'Sunrise', parent: null, root: 'Sunrise', subgroups: 1, users: 0 }),
      expect.objectContaining({ name: 'Block A', parent: 'Sunrise', root: 'Sunrise', subgroups: 1 }),
      expect.objectContaining({ name: 'Floor 1', parent: 'Block A', root: 'Sunrise', subgroups: 0 }),
      expect.objectContaining({ name: 'Harbour', parent: null, root: 'Harbour' }),
    ]);
    expect(await w.json(['group', 'show', 'Floor 1'])).toMatchObject({
      name: 'Floor 1',
      isRoot: false,
      root: 'Sunrise',
      path: ['Sunrise', 'Block A', 'Floor 1'],
      children: [],
    });
    expect(await w.ok(['group', 'list'])).toMatch(/Floor 1\s+Block A\s+Sunrise/);
  });

  it('licenses show: restrictions off by default, limits still shown', async () => {
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toEqual({
      group: 'Sunrise',
      restrictions: false,
      virtualNumbers: { limit: 0, used: 0, remaining: 0, over: 0 },
      mobileApps: { limit: 0, used: 0, remaining: 0, over: 0 },
      validity: { enabled: false, validFrom: null, validUntil: null, state: 'unrestricted' },
      enforcement: null,
    });
  });

  it('licenses set: merges, turns validity on with a bound, accepts offsets and dates', async () => {
    const out = await w.ok([
      'licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '3', '--apps', '2',
      '--valid-from', '2026-01-01', '--valid-until', '2100-01-01T02:00:00+02:00', '--remind-days', '30',
    ]);
    expect(out).toContain('virtualNumbers: 0 -> 3');
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({
      restrictions: true,
      virtualNumbers: { limit: 3, used: 0, remaining: 3, over: 0 },
      mobileApps: { limit: 2 },
      validity: { enabled: true, validFrom: '2026-01-01T00:00:00Z', validUntil: '2100-01-01T00:00:00Z', state: 'active' },
    });
    const text = await w.ok(['licenses', 'show', 'Sunrise']);
    expect(text).toMatch(/Virtual numbers:\s+0 used \/ 3 limit \/ 3 remaining/);
    expect(text).toMatch(/active until 2100-01-01T00:00:00Z \(\d+ d \d+ h left\)/);
    expect(text).toContain('30 days before the end');
  });

  it('user add / licenses / list / show', async () => {
    await w.ok(['user', 'add', 'alice', '--group', 'Floor 1', '--numbers', '2', '--apps', '1']);
    await w.ok(['user', 'add', 'bob', '--group', 'Sunrise']);
    await w.ok(['user', 'add', 'zoe', '--group', 'Harbour']);
    expect(await w.ok(['user', 'licenses', 'bob', '--numbers', '3', '--apps', 'none'])).toContain('numbers no cap -> 3');
    const users = await w.json<{ login: string; root: string; personalNumbers: number | null }[]>(['user', 'list', '--group', 'Sunrise']);
    expect(users.map((u) => [u.login, u.root, u.personalNumbers])).toEqual([
      ['alice', 'Sunrise', 2],
      ['bob', 'Sunrise', 3],
    ]);
    expect((await w.json<unknown[]>(['user', 'list'])).length).toBe(3);
    expect(await w.json(['user', 'show', 'alice'])).toMatchObject({
      login: 'alice',
      group: 'Floor 1',
      root: 'Sunrise',
      personalNumbers: 2,
      personalApps: 1,
      numbersUsed: 0,
      numbers: [],
    });
    await w.ok(['user', 'licenses', 'bob', '--numbers', 'none']);
  });

  it('number add / list, exit 4 at the limit, counters in licenses show', async () => {
    await w.ok(['number', 'add', '1001', '--user', 'alice']);
    await w.ok(['number', 'add', '1002', '--user', 'alice']);
    const personal = await w.run(['number', 'add', '1003', '--user', 'alice']);
    expect(personal.code).toBe(4);
    expect(personal.stderr).toContain("user 'alice' uses 2 of their 2 personal");
    await w.ok(['number', 'add', '2001', '--user', 'bob']);
    const group = await w.run(['number', 'add', '2002', '--user', 'bob']);
    expect(group.code).toBe(4);
    expect(group.stderr).toContain("root group 'Sunrise' uses 3 of its 3 virtual-number licenses");
    await w.ok(['number', 'add', '3001', '--user', 'zoe']);
    const numbers = await w.json<{ number: string; user: string; root: string }[]>(['number', 'list', '--group', 'Sunrise']);
    expect(numbers.map((n) => n.number)).toEqual(['1001', '1002', '2001']);
    expect((await w.json<unknown[]>(['number', 'list', '--user', 'zoe'])).length).toBe(1);
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ virtualNumbers: { used: 3, remaining: 0 } });
    expect(await w.json(['user', 'show', 'alice'])).toMatchObject({ numbersUsed: 2, numbers: ['1001', '1002'] });
  });

  it('app list / release (installs claimed by the SIP side)', async () => {
    const db = openDatabase(w.db);
    try {
      const base = { pnProvider: 'fcm', pnPrid: 'p', pnParam: null, contact: '<sip:1001@10.0.0.9>', userAgent: 'App/1', now: Date.now() };
      expect(claimInstall(db, { ...base, instanceId: 'urn:uuid:a1', number: '1001' })).toMatchObject({ ok: true, alreadyLicensed: false });
      expect(claimInstall(db, { ...base, instanceId: 'urn:uuid:a2', number: '1002' })).toEqual({ ok: false, reason: 'personal-license-exceeded' });
    } finally {
      db.close();
    }
    const apps = await w.json<{ instanceId: string; licensed: boolean; number: string }[]>(['app', 'list', '--group', 'Block A']);
    expect(apps.map((a) => [a.instanceId, a.number, a.licensed])).toEqual([
      ['urn:uuid:a1', '1001', true],
      ['urn:uuid:a2', '1002', false],
    ]);
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ mobileApps: { used: 1, remaining: 1 } });
    expect(await w.ok(['app', 'release', 'urn:uuid:a1'])).toContain('Released');
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ mobileApps: { used: 0, remaining: 2 } });
    expect(await w.json<unknown[]>(['app', 'list', '--group', 'Harbour'])).toEqual([]);
  });

  it('check explains allow and deny decisions in words and JSON', async () => {
    // The first two lines; the third names the policy options used (see check-config.test.ts).
    const allowed = (await w.ok(['check', '1001'])).trim().split('\n');
    expect(allowed[0]).toBe("ALLOWED (licensed): number 1001 of group 'Sunrise' is within its licences");
    expect(allowed[1]).toBe("Mode: enforce, the sidecar's policy.mode (--mode)");
    expect((await w.ok(['check', '1001', '--at', '2100-01-01'])).split('\n')[0]).toBe(
      "REFUSED (403, license-expired): group 'Sunrise' licence expired at 2100-01-01T00:00:00Z",
    );
    expect(await w.json(['check', '1001', '--at', '2025-06-01T00:00:00Z'])).toMatchObject({
      decision: 'deny',
      reason: 'license-not-yet-valid',
      basis: null,
      sipStatus: 403,
      text: "group 'Sunrise' licence is not valid before 2026-01-01T00:00:00Z",
      warning: 'License is not yet valid',
      details: { number: '1001', group: 'Sunrise', validFrom: '2026-01-01T00:00:00Z', validUntil: '2100-01-01T00:00:00Z' },
    });
    expect(await w.json(['check', '1001', '--app', '--instance', 'urn:uuid:new'])).toMatchObject({
      decision: 'allow',
      basis: 'install-new',
      claimInstall: true,
      sipStatus: null,
    });
    expect(await w.json(['check', '3001', '--method', 'invite', '--to', '1001', '--at', '2100-01-02'])).toMatchObject({
      decision: 'deny',
      reason: 'callee-license-expired',
      details: { callee: '1001', calleeGroup: 'Sunrise' },
    });
    expect(await w.json(['check', '9999'])).toMatchObject({ decision: 'allow', basis: 'unprovisioned' });
    // A limit lowered below what is used: the newest number is refused, the oldest keep working.
    await w.ok(['licenses', 'set', 'Sunrise', '--numbers', '2']);
    expect(await w.json(['check', '2001'])).toMatchObject({ decision: 'deny', reason: 'virtual-numbers-exceeded', details: { limit: 2, rank: 2 } });
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ virtualNumbers: { limit: 2, used: 3, remaining: 0, over: 1 } });
    await w.ok(['licenses', 'set', 'Sunrise', '--numbers', '3']);
  });

  it('operator add / list / grant / revoke / remove', async () => {
    const added = await w.json<{ name: string; permissions: string[]; token: string }>(['operator', 'add', 'carol', '--permission', 'users:edit', 'groups:edit']);
    expect(added).toMatchObject({ name: 'carol', permissions: ['groups:edit', 'users:edit'] });
    expect(added.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await w.ok(['operator', 'grant', 'carol', 'licenses:edit'])).toContain('groups:edit, licenses:edit, users:edit');
    expect(await w.ok(['operator', 'revoke', 'carol', 'groups:edit', 'users:edit'])).toContain("'carol': licenses:edit");
    // carol can read the Licences section now.
    expect(await w.json(['licenses', 'show', 'Harbour'], added.token)).toMatchObject({ group: 'Harbour' });
    const list = await w.json<{ name: string; permissions: string[] }[]>(['operator', 'list']);
    expect(list.map((o) => [o.name, o.permissions])).toEqual([
      ['admin', ['groups:edit', 'licenses:edit', 'operators:edit', 'users:edit']],
      ['carol', ['licenses:edit']],
    ]);
    expect(JSON.stringify(list)).not.toContain(added.token);
    await w.ok(['operator', 'remove', 'carol']);
    expect((await w.run(['group', 'list'], added.token)).code).toBe(3);
  });

  it('number remove, user remove, group remove', async () => {
    await w.ok(['number', 'remove', '3001']);
    await w.ok(['user', 'remove', 'zoe']);
    await w.ok(['group', 'remove', 'Harbour']);
    expect((await w.json<{ name: string }[]>(['group', 'list'])).map((g) => g.name)).not.toContain('Harbour');
  });

  it('audit lists every change with old and new values, filtered by group and time', async () => {
    const all = await w.json<{ action: string; outcome: string; operator: string }[]>(['audit']);
    const actions = new Set(all.map((e) => e.action));
    for (const a of ['init', 'group.add', 'licenses.set', 'user.add', 'user.licenses', 'number.add', 'app.release', 'operator.add', 'operator.grant', 'operator.revoke', 'operator.remove', 'number.remove', 'user.remove', 'group.remove']) {
      expect(actions).toContain(a);
    }
    expect(all.every((e) => e.operator === 'admin')).toBe(true);
    // The two limit refusals of 'number add' are there too.
    expect(all.filter((e) => e.outcome !== 'ok').map((e) => [e.action, e.outcome])).toEqual([
      ['number.add', 'refused'],
      ['number.add', 'refused'],
    ]);
    const sunrise = await w.json<{ rootGroup: string; action: string; old: unknown; new: unknown }[]>(['audit', '--group', 'Floor 1']);
    expect(sunrise.length).toBeGreaterThan(0);
    expect(sunrise.every((e) => e.rootGroup === 'Sunrise')).toBe(true);
    expect(sunrise.find((e) => e.action === 'licenses.set')).toMatchObject({ old: { restrictions: false }, new: { restrictions: true, virtualNumbers: 3 } });
    // The log outlives the group it talks about.
    expect((await w.json<{ action: string }[]>(['audit', '--group', 'Harbour'])).map((e) => e.action)).toEqual([
      'group.add',
      'user.add',
      'number.add',
      'number.remove',
      'user.remove',
      'group.remove',
    ]);
    expect(await w.json(['audit', '--since', '2999-01-01'])).toEqual([]);
  });
});
