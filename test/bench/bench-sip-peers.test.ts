import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../scripts/bench-prng.js';
import { DIGEST_FROM } from '../../scripts/bench-sip-db.js';
import { drawMixedRows, writeMixedCsv } from '../../scripts/bench-sip-mixed.js';
import { PRODUCTION_REFERENCE, REFERENCE_SETUPS } from '../../scripts/bench-sip-reference.js';
import { checkKamailioConfig, renderKamailioConfig, startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePort } from '../support/ports.js';
import { FIXTURES_DIR } from '../support/repo-root.js';
import { describeSippRun, runSipp } from '../support/sipp.js';
import { makeTempDir } from '../support/temp-dirs.js';

/*
 * The peers of `bench:sip` as the benchmark sets them up, on real Kamailio and SIPp: the reference
 * is a production stateless proxy (nothing logged per message), the registrar challenges the
 * digest devices only, and the mixed-load scenario registers every kind of device.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/bench/bench-sip-peers.test.ts SKIPPED: ${missing} ***\n`);

const BENCH_SCENARIOS = join(FIXTURES_DIR, 'sipp');
const TIMEOUT_SEC = 15;
const MESSAGE_LOG = REFERENCE_SETUPS.find((s) => s.options.messageLog === true);

/** Log lines a Kamailio wrote after `mark` lines, leaving out shutdown notices. */
const linesSince = (k: KamailioHandle, mark: number): string[] =>
  k.logs().split('\n').slice(mark).filter((l) => l.trim() !== '' && !/sig_usr|handle_sigs|Thank you for flying/.test(l));

describe.skipIf(missing !== undefined)(`bench:sip peers on real Kamailio and SIPp${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  const started: KamailioHandle[] = [];
  let registrar: KamailioHandle;
  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar', authPrefix: '40', debug: 1 });
    started.push(registrar);
  }, 30_000);
  afterAll(async () => {
    await Promise.all(started.map((k) => k.stop()));
  });

  it('the reference is set up as a production stateless proxy: debug ≤ 1, 4 MiB buffers, a worker per core, fm, a config Kamailio accepts', async () => {
    const port = await freePort();
    const options = { config: 'stateless-proxy', port, forwardTo: '127.0.0.1:5999', maxBuffer: 4 * 1024 * 1024, ...PRODUCTION_REFERENCE.options } as const;
    const text = renderKamailioConfig(options);
    expect(Number(/^debug=(\d+)$/m.exec(text)?.[1])).toBeLessThanOrEqual(1);
    expect(Number(/^children=(\d+)$/m.exec(text)?.[1])).toBe(2);
    expect(PRODUCTION_REFERENCE.options.memoryManager).toBe('fm');
    expect(text).toMatch(/^maxbuffer=4194304$/m);
    expect(text).not.toMatch(/^#!define WITH_MESSAGE_LOG/m);
    expect(await checkKamailioConfig(options)).toBeUndefined();
    expect(await checkKamailioConfig({ config: 'registrar', port, authPrefix: '40', fallbackTo: '127.0.0.1:5999' })).toBeUndefined();
    expect(() => renderKamailioConfig({ config: 'registrar', port, authPrefix: '4"0' })).toThrow(/authPrefix: digits expected/);
  });

  it('the production reference logs nothing per message; the per-message-logging setup does (so the check can fail)', async () => {
    if (!MESSAGE_LOG) throw new Error('REFERENCE_SETUPS lost its per-message-logging setup');
    const dir = makeTempDir('bench-peers');
    const csv = join(dir, 'register.csv');
    const rows = drawMixedRows(200, prng(3), 2_000_000).rows.filter((r) => r.kind !== 'auth'); // the proxy's registrar challenges none of these
    writeMixedCsv(csv, rows);
    const logged: Record<string, number> = {};
    for (const setup of [PRODUCTION_REFERENCE, MESSAGE_LOG]) {
      const k = await startKamailio({ config: 'stateless-proxy', forwardTo: `127.0.0.1:${registrar.port}`, ...setup.options });
      started.push(k);
      const mark = k.logs().split('\n').length - 1;
      const run = await runSipp({ scenario: join(BENCH_SCENARIOS, 'bench-mixed-register.xml') as `${string}.xml`, target: `127.0.0.1:${k.port}`, calls: rows.length, rate: 200, timeoutSec: TIMEOUT_SEC, injection: csv });
      expect(run.exitCode, describeSippRun(run)).toBe(0);
      logged[setup.name] = linesSince(k, mark).length;
    }
    expect(logged[PRODUCTION_REFERENCE.name]).toBe(0);
    expect(logged[MESSAGE_LOG.name]).toBeGreaterThanOrEqual(2 * rows.length); // a line per REGISTER and per 200
  }, 60_000);

  it('the mixed scenario: digest devices are challenged (401) then registered, the others register at once', async () => {
    const dir = makeTempDir('bench-peers');
    const csv = join(dir, 'mixed.csv');
    const { rows } = drawMixedRows(300, prng(4), 2_000_000);
    writeMixedCsv(csv, rows);
    const run = await runSipp({ scenario: join(BENCH_SCENARIOS, 'bench-mixed-register.xml') as `${string}.xml`, target: `127.0.0.1:${registrar.port}`, calls: 300, rate: 150, timeoutSec: TIMEOUT_SEC, injection: csv });
    expect(run.exitCode, describeSippRun(run)).toBe(0);
    expect(run.stats?.successful).toBe(300);
    const challenged = Object.entries(run.counts).filter(([k]) => k.endsWith('_401_Recv')).reduce((n, [, v]) => n + v, 0);
    const digest = rows.filter((r) => r.kind === 'auth');
    expect(digest.length).toBeGreaterThan(20);
    expect(digest.every((r) => r.k >= DIGEST_FROM)).toBe(true);
    expect(challenged).toBe(digest.length);
  }, 60_000);
});
