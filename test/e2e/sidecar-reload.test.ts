import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning } from '../cli/cli-harness.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { registerUntil } from './reload-probe.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { started } from './sidecar-fixture.js';
import { UdpSipClient } from './udp-sip-client.js';

/*
 * Hot reload with real processes only: `sipwarden serve --config FILE` as a child process in front
 * of Kamailio, and operator changes made by separate `sipwarden` CLI processes on the same SQLite
 * file. A change applies to the next request within one second (DESIGN.md §3), without a restart.
 * The bound asserted is generous (1.5 s); the measured figures are printed.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/sidecar-reload.test.ts SKIPPED: ${missing} ***\n`);

/** "Within one second", with room for a loaded CI machine. */
const BOUND_MS = 1500;

describe.skipIf(missing !== undefined)(`hot reload of CLI changes into a running serve${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let serve: ServeProcess | undefined;
  let client: UdpSipClient | undefined;
  let w: CliWorld | undefined;
  let target = '';

  beforeAll(async () => {
    w = await new CliWorld().init();
    await w.ok(['group', 'add', 'Lapsed']);
    await w.ok([
      'licenses', 'set', 'Lapsed', '--restrictions', 'on', '--numbers', '3', '--apps', '0',
      '--valid-from', '2020-01-01', '--valid-until', '2021-01-01',
    ]);
    await w.ok(['user', 'add', 'carol', '--group', 'Lapsed']);
    await w.ok(['number', 'add', '5001', '--user', 'carol']);
    registrar = await startKamailio({ config: 'registrar' });
    // reload.intervalMs left at its default: the shipped setting must meet the one-second promise.
    const config = writeConfig(w.dir, {
      database: w.db,
      sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: registrar.port } },
      policy: { unknownNumbers: 'reject' },
    });
    serve = spawnServe(w.dir, config);
    const serving = await waitUntilServing(serve);
    target = `127.0.0.1:${serving.udp?.port}`;
    client = await UdpSipClient.open();
  });
  afterAll(async () => {
    killRunning();
    await client?.close();
    await serve?.stop();
    await registrar?.stop();
    w?.remove();
  });

  /** How long each CLI command ran (process start to exit), to print the figures. */
  const cliMs = new Map<string, number>();

  /** Runs a CLI command that must succeed; returns the moment its process exited. */
  async function cli(what: string, args: readonly string[]): Promise<number> {
    const start = performance.now();
    await started(w).ok(args);
    const exited = performance.now();
    cliMs.set(what, exited - start);
    return exited;
  }

  it('extending, adding a number and closing the window each apply to the next REGISTER within a second', async () => {
    const c = started(client);
    const before = await c.register(target, { number: '5001' });
    expect(before?.status).toBe(403);
    expect(before?.header('x-sipwarden-reason')).toBe('license-expired');

    const extended = await registerUntil(c, target, '5001', 200, await cli('extended', ['licenses', 'set', 'Lapsed', '--valid-until', '2100-01-01']));
    // Kamailio's 200: the REGISTER was forwarded once the window opened.
    expect(extended.answer.header('server')).toMatch(/^kamailio/);

    const unknown = await c.register(target, { number: '5002' });
    expect(unknown?.header('x-sipwarden-reason')).toBe('unknown-number');
    const added = await registerUntil(c, target, '5002', 200, await cli('added', ['number', 'add', '5002', '--user', 'carol']));

    const closed = await registerUntil(c, target, '5001', 403, await cli('closed', ['licenses', 'set', 'Lapsed', '--valid-until', '2021-06-01']));
    expect(closed.answer.header('x-sipwarden-reason')).toBe('license-expired');

    const figures = { extended, added, closed };
    for (const [what, probe] of Object.entries(figures)) {
      const ran = Math.round(cliMs.get(what) ?? NaN);
      console.log(
        `hot reload (${what}): REGISTER answered as changed ${Math.round(probe.ms)} ms after the CLI exited ` +
          `(${probe.attempts} REGISTERs; the CLI process ran ${ran} ms, so at most ${ran + Math.round(probe.ms)} ms after its commit)`,
      );
      expect(probe.ms, what).toBeLessThan(BOUND_MS);
    }
    // The daemon reloaded from the database rather than restarting: same process, reload logged.
    expect(serve?.exitStatus()).toBeUndefined();
    await started(serve).waitForLine((l) => l.msg === 'license data reloaded', 'a reload line per change', 3);
  });

  it('the daemon logged each refusal with its reason and group', async () => {
    await started(serve).waitForLine((l) => l.msg === 'refused' && l.reason === 'license-expired', 'the last refusal', 2);
    const refused = serve?.lines().filter((l) => l.msg === 'refused') ?? [];
    expect(refused.map((l) => l.reason)).toEqual(expect.arrayContaining(['license-expired', 'unknown-number']));
    expect(refused.find((l) => l.reason === 'license-expired')).toMatchObject({ number: '5001', group: 'Lapsed' });
  });
});
