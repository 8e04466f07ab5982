import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning, oneErrorLine } from './cli-harness.js';

/*
 * Issue 11 item 4 through the built CLI: `licenses set P --enforcement shadow|enforce|default`,
 * shown by `licenses show`, applied by `check` (with --mode for the sidecar's policy.mode),
 * audited, carried by export/import, and a bad value refused with one line and nothing written.
 */

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
  await w.ok(['group', 'add', 'Sunrise']);
  await w.ok(['licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '5', '--apps', '2', '--valid-from', '2020-01-01', '--valid-until', '2021-01-01']);
  await w.ok(['user', 'add', 'alice', '--group', 'Sunrise']);
  await w.ok(['number', 'add', '1001', '--user', 'alice']);
}, 120_000);
afterEach(() => killRunning());
afterAll(() => {
  killRunning();
  w.remove();
});

describe('enforcement mode per project', () => {
  it('follows policy.mode until set: licenses show and check say so', async () => {
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ enforcement: null });
    expect(await w.ok(['licenses', 'show', 'Sunrise'])).toMatch(/^ {2}Enforcement: +the sidecar's policy\.mode \(enforce unless it is configured shadow\)$/m);
    const out = await w.ok(['check', '1001']);
    expect(out).toMatch(/^REFUSED \(403, license-expired\): /m);
    expect(out).toMatch(/^Mode: enforce, the sidecar's policy\.mode \(--mode\)$/m);
    const shadowed = await w.json(['check', '1001', '--mode', 'shadow']);
    expect(shadowed).toMatchObject({ decision: 'deny', reason: 'license-expired', enforcement: { mode: 'shadow', source: 'policy' } });
    expect(await w.ok(['check', '1001', '--mode', 'shadow'])).toMatch(/^WOULD REFUSE \(shadow mode, forwarded; 403, license-expired\): /m);
  }, 60_000);

  it('--enforcement shadow: shown, applied by check whatever --mode, audited, exported', async () => {
    expect(await w.ok(['licenses', 'set', 'Sunrise', '--enforcement', 'shadow'])).toContain('enforcement: default -> shadow');
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ enforcement: 'shadow' });
    expect(await w.ok(['licenses', 'show', 'Sunrise'])).toMatch(/^ {2}Enforcement: +shadow \(project setting\)/m);
    expect(await w.json(['check', '1001', '--mode', 'enforce'])).toMatchObject({ enforcement: { mode: 'shadow', source: 'project' } });
    expect(await w.ok(['check', '1001'])).toMatch(/^WOULD REFUSE .*\nMode: shadow, the project's setting$/m);
    const audit = await w.json<{ action: string; new: unknown }[]>(['audit', '--group', 'Sunrise']);
    expect(audit.filter((a) => a.action === 'licenses.set').at(-1)).toMatchObject({ old: expect.objectContaining({ enforcement: null }), new: expect.objectContaining({ enforcement: 'shadow' }) });
    const doc = JSON.parse(await w.ok(['export'])) as { groups: { name: string; licenses?: { enforcement?: string } }[] };
    expect(doc.groups.find((g) => g.name === 'Sunrise')?.licenses?.enforcement).toBe('shadow');
  }, 60_000);

  it('--enforcement enforce wins over --mode shadow; default returns to policy.mode', async () => {
    await w.ok(['licenses', 'set', 'Sunrise', '--enforcement', 'enforce']);
    expect(await w.json(['check', '1001', '--mode', 'shadow'])).toMatchObject({ enforcement: { mode: 'enforce', source: 'project' } });
    expect(await w.ok(['licenses', 'set', 'Sunrise', '--enforcement', 'default'])).toContain('enforcement: enforce -> default');
    expect(await w.json(['licenses', 'show', 'Sunrise'])).toMatchObject({ enforcement: null });
  }, 60_000);

  it('refuses an unknown mode with one line, exit 2, writing nothing', async () => {
    const before = w.fingerprint();
    const r = await w.run(['licenses', 'set', 'Sunrise', '--enforcement', 'observe']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--enforcement <mode>' argument 'observe' is invalid\. Allowed choices are enforce, shadow, default/);
    expect(w.fingerprint()).toBe(before);
    const check = await w.run(['check', '1001', '--mode', 'dry']);
    expect(check.code).toBe(2);
  }, 60_000);
});
