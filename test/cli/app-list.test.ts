import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimInstall, recordRefusedInstall, releaseInstall } from '../../src/store/app-installs.js';
import { releaseIdleInstalls } from '../../src/store/idle-installs.js';
import { CliWorld, killRunning } from './cli-harness.js';
import { seedInstallationDirect } from './seed.js';
import { installInput } from '../store/ledger-fixture.js';

/*
 * `app list` says, without printing a token, whether each install's push parameters are held, and
 * when and why a licence was given back (idle, or by which operator).
 */

const T0 = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
  seedInstallationDirect(w);
  // No Contact: two installs on one number must not be taken for one by a shared Contact URI.
  const app = (instanceId: string, number: string, push: boolean, now: number) =>
    installInput(instanceId, number, { contact: null, now, ...(push ? { pnProvider: 'fcm', pnPrid: `secret-token-${instanceId}` } : { pnProvider: null, pnPrid: null, pnParam: null }) });
  w.direct((db) => {
    expect(claimInstall(db, app('urn:uuid:kept', '2001', true, T0 + 40 * DAY)).ok).toBe(true);
    expect(claimInstall(db, app('urn:uuid:idle', '1001', true, T0)).ok).toBe(true);
    expect(releaseIdleInstalls(db, T0 + 31 * DAY, 30 * DAY)).toHaveLength(1);
    expect(claimInstall(db, app('urn:uuid:freed', '2002', false, T0 + 40 * DAY)).ok).toBe(true);
    expect(releaseInstall(db, 'urn:uuid:freed', { now: T0 + 41 * DAY, operator: 'carol' }).ok).toBe(true);
    expect(recordRefusedInstall(db, app('urn:uuid:never', '2002', false, T0 + 42 * DAY))).toBe(true);
  });
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

describe('app list', () => {
  it('shows whether push parameters are held and how each licence was given back, never the token', async () => {
    const text = await w.ok(['app', 'list']);
    const rows = text.trim().split('\n').map((l) => l.split(/ {2,}/));
    expect(rows[0]).toEqual(['INSTANCE', 'NUMBER', 'USER', 'ROOT', 'LICENSED', 'PUSH', 'LAST SEEN']);
    const byInstance = new Map(rows.slice(1).map((r) => [r[0], { licensed: r[4], push: r[5] }]));
    expect(Object.fromEntries(byInstance)).toEqual({
      'urn:uuid:kept': { licensed: '2026-04-10T00:00:00Z', push: 'fcm' },
      'urn:uuid:idle': { licensed: 'no, released 2026-04-01T00:00:00Z (idle)', push: 'fcm' },
      'urn:uuid:freed': { licensed: 'no, released 2026-04-11T00:00:00Z by carol', push: 'no' },
      'urn:uuid:never': { licensed: 'no', push: 'no' },
    });
    expect(text).not.toContain('secret-token');
    const json = await w.json<{ instanceId: string; releasedAt: string | null; releasedBy: string | null; pnPrid: string | null }[]>(['app', 'list']);
    expect(json.find((a) => a.instanceId === 'urn:uuid:idle')).toMatchObject({ releasedAt: '2026-04-01T00:00:00Z', releasedBy: 'idle', pnPrid: 'secret-token-urn:uuid:idle' });
  });
});
