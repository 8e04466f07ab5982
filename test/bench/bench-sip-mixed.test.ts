import { describe, expect, it } from 'vitest';
import { APPS_PER_GROUP, DIGEST_FROM, DIGEST_NUMBERS, GROUPS, KNOWN_INSTALLS_PER_GROUP, REGISTERING, groupOf, isExpiredGroup, knownInstallOf } from '../../scripts/bench-sip-db.js';
import { prng } from '../../scripts/bench-prng.js';
import { MIX, NEW_INSTALLS_FROM, drawMixedRows, expectedMixedRefusals, type MixedRow } from '../../scripts/bench-sip-mixed.js';

const row = (kind: MixedRow['kind'], k: number, isNew = false, install: number | null = kind === 'app' ? k : null): MixedRow => ({ kind, k, install, isNew, group: groupOf(k) });

describe('the mixed REGISTER load', () => {
  it('draws the documented shares, each kind from its own numbers, new installs numbered apart', () => {
    const { rows, nextInstall } = drawMixedRows(100_000, prng(1), NEW_INSTALLS_FROM);
    const share = (f: (r: MixedRow) => boolean): number => rows.filter(f).length / rows.length;
    expect(share((r) => r.kind === 'plain')).toBeCloseTo(MIX.plain, 2);
    expect(share((r) => r.kind === 'auth')).toBeCloseTo(MIX.digest, 2);
    expect(share((r) => r.kind === 'app' && !r.isNew)).toBeCloseTo(MIX.knownApp, 2);
    expect(share((r) => r.isNew)).toBeCloseTo(MIX.newApp, 2);
    const misplaced = rows.filter(
      (r) =>
        (r.kind === 'auth' ? r.k < DIGEST_FROM || r.k >= DIGEST_FROM + DIGEST_NUMBERS : r.k < 0 || r.k >= REGISTERING) ||
        (r.kind === 'app' && !r.isNew && r.install !== knownInstallOf(r.k)) ||
        r.group !== groupOf(r.k),
    );
    expect(misplaced).toEqual([]);
    const fresh = rows.filter((r) => r.isNew).map((r) => r.install);
    expect(new Set(fresh).size).toBe(fresh.length);
    expect(nextInstall).toBe(NEW_INSTALLS_FROM + fresh.length);
  });

  it('known installs are the first ones of each project, within its app licences', () => {
    expect(KNOWN_INSTALLS_PER_GROUP).toBeLessThan(APPS_PER_GROUP);
    expect(knownInstallOf(KNOWN_INSTALLS_PER_GROUP * GROUPS - 1)).not.toBeNull();
    expect(knownInstallOf(KNOWN_INSTALLS_PER_GROUP * GROUPS)).toBeNull();
  });

  it('expects a 403 for every request of an expired project, whatever its kind', () => {
    const expired = 99; // project 100: its window is closed
    expect(isExpiredGroup(groupOf(expired))).toBe(true);
    const rows = [row('plain', expired), row('auth', DIGEST_FROM + expired), row('app', expired), row('app', expired, true, NEW_INSTALLS_FROM)];
    expect(expectedMixedRefusals(rows, () => 1000)).toBe(4);
    expect(expectedMixedRefusals([row('plain', 1), row('auth', DIGEST_FROM + 1), row('app', 1)], () => 0)).toBe(0);
  });

  it('expects the new installs beyond a project\'s free licences to be refused, in any order', () => {
    const project1 = Array.from({ length: 7 }, (_, i) => row('app', i * GROUPS, true, NEW_INSTALLS_FROM + i)); // all in project 1
    const project2 = Array.from({ length: 3 }, (_, i) => row('app', 1 + i * GROUPS, true, NEW_INSTALLS_FROM + 10 + i));
    const free = (g: number): number => (g === 1 ? 5 : g === 2 ? 3 : 0);
    expect(expectedMixedRefusals([...project1, ...project2], free)).toBe(2);
    expect(expectedMixedRefusals([...project2, ...project1].reverse(), free)).toBe(2);
    // A project already over its limit (free < 0) refuses every new install, no more.
    expect(expectedMixedRefusals(project2, () => -4)).toBe(3);
  });
});
