import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyConfig } from '../../src/config/load-config.js';
import { DEFAULT_POLICY_OPTIONS } from '../../src/policy/request-facts.js';
import { CliWorld, killRunning, oneErrorLine, runCli } from './cli-harness.js';
import { seedInstallationDirect } from './seed.js';

/*
 * `check` decides with the policy options of the sidecar's configuration (--config FILE, else
 * SIPWARDEN_CONFIG, else the built-in defaults, as `serve`) and says which it used.
 */

let w: CliWorld;
let strict: string;
let lenient: string;
beforeAll(async () => {
  w = await new CliWorld().init();
  seedInstallationDirect(w);
  strict = join(w.dir, 'strict.json');
  // A full serve config: webhooks whose secret is not in check's environment must not matter.
  writeFileSync(
    strict,
    JSON.stringify({
      database: 'elsewhere.db',
      sip: { upstream: { host: '127.0.0.1' } },
      policy: { unknownNumbers: 'reject', checkCalleeWindow: false },
      notify: { webhooks: [{ url: 'https://push.example.com/hook' }] },
    }),
  );
  lenient = join(w.dir, 'lenient.json');
  writeFileSync(lenient, JSON.stringify({ policy: { registerOutsideWindow: 'allow-sip-devices' } }));
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

describe('check --config', () => {
  it("without a file, check's defaults are serve's defaults", () => {
    const served = loadPolicyConfig(undefined);
    expect(Object.fromEntries(Object.keys(DEFAULT_POLICY_OPTIONS).map((k) => [k, served[k as keyof typeof served]]))).toEqual(DEFAULT_POLICY_OPTIONS);
  });

  it('without a config: the built-in defaults, and it says so', async () => {
    const out = await w.ok(['check', '9999']);
    expect(out).toBe(
      "ALLOWED (unprovisioned): number 9999 is not provisioned, so sipwarden does not license it; relayed\n" +
        "Mode: enforce, the sidecar's policy.mode (--mode)\n" +
        "policy: unknownNumbers=allow registerOutsideWindow=reject checkCalleeWindow=true (built-in defaults; --config FILE or SIPWARDEN_CONFIG for the sidecar's)\n",
    );
  });

  it("with the sidecar's config: strict mode refuses an unknown number, and names the file", async () => {
    const out = await w.ok(['check', '9999', '--config', strict]);
    expect(out.split('\n')[0]).toMatch(/^REFUSED \(403, unknown-number\)/);
    expect(out.split('\n')[1]).toBe("Mode: enforce, the sidecar's policy.mode (--mode)");
    expect(out.split('\n')[2]).toBe(`policy: unknownNumbers=reject registerOutsideWindow=reject checkCalleeWindow=false (from ${strict})`);
    expect(await w.json(['check', '9999', '--config', strict])).toMatchObject({
      decision: 'deny',
      reason: 'unknown-number',
      policy: { unknownNumbers: 'reject', registerOutsideWindow: 'reject', checkCalleeWindow: false, config: strict },
    });
  });

  it("the config's policy.mode applies to projects without their own, and --mode overrides it", async () => {
    const shadow = join(w.dir, 'shadow.json');
    writeFileSync(shadow, JSON.stringify({ policy: { unknownNumbers: 'reject', mode: 'shadow' } }));
    const out = (await w.ok(['check', '9999', '--config', shadow])).split('\n');
    expect(out[0]).toMatch(/^WOULD REFUSE \(shadow mode, forwarded; 403, unknown-number\)/);
    expect(out[1]).toBe("Mode: shadow, the sidecar's policy.mode (--mode)");
    expect(await w.json(['check', '9999', '--config', shadow])).toMatchObject({ policy: { mode: 'shadow', config: shadow } });
    const forced = (await w.ok(['check', '9999', '--config', shadow, '--mode', 'enforce'])).split('\n');
    expect(forced[0]).toMatch(/^REFUSED \(403, unknown-number\)/);
    expect(forced[1]).toBe("Mode: enforce, the sidecar's policy.mode (--mode)");
  });

  it('SIPWARDEN_CONFIG is the default, as for serve', async () => {
    const r = await w.run(['check', '1001', '--at', '2100-06-01', '--json'], w.adminToken);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'deny', reason: 'license-expired' });
    const viaEnv = await runCli(['--db', w.db, 'check', '1001', '--at', '2100-06-01', '--json'], {
      SIPWARDEN_TOKEN: w.adminToken,
      SIPWARDEN_CONFIG: lenient,
    });
    expect(viaEnv.code).toBe(0);
    // allow-sip-devices: a plain SIP device stays registered outside the window.
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({
      decision: 'allow',
      basis: 'window-closed-device-kept',
      policy: { registerOutsideWindow: 'allow-sip-devices', config: lenient },
    });
  });

  it('a policy the sidecar would refuse is refused here too: exit 2, every problem, nothing written', async () => {
    const bad = join(w.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ policy: { unknownNumbers: 'maybe', checkCalleeWindow: 'yes' } }));
    const before = w.fingerprint();
    const r = await w.run(['check', '1001', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^sipwarden: ${bad}: policy\\.unknownNumbers: `));
    expect(lines[1]).toMatch(new RegExp(`^sipwarden: ${bad}: policy\\.checkCalleeWindow: `));
    expect(w.fingerprint()).toBe(before);
    const missing = await w.run(['check', '1001', '--config', join(w.dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toMatch(/none\.json: cannot read the file/);
  });
});
