import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunning, runCli } from '../cli/cli-harness.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePort } from '../support/ports.js';
import { makeTestCa, opensslMissing } from '../support/test-ca.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { RawSipClient, registerFrom } from './raw-sip.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { renewAndReload, serveTlsFolder, type ServeTlsFolder } from './serve-tls-files.js';
import { started } from './sidecar-fixture.js';

/*
 * `sipwarden serve` with a TLS listener as an operator runs it: certificate files that cannot be
 * used are refused at start-up (exit 2, one line naming the file), and SIGHUP reads the files
 * again (a renewed certificate, as certbot leaves it) without dropping a connection: clients
 * connected before keep registering, new handshakes get the new certificate, and files that
 * cannot be used are refused while the running certificate stays.
 */

const noCa = opensslMissing();
const missing = missingPeers() ?? noCa;
if (missing) console.warn(`\n*** test/e2e/serve-tls.test.ts SKIPPED: ${missing} ***\n`);

const WAIT_MS = 5000;

describe.skipIf(noCa !== undefined)('sipwarden serve with TLS files that cannot be used', () => {
  afterAll(() => killRunning());

  it('exits 2 with one line naming the file: missing certificate, key of another certificate', async () => {
    const ca = makeTestCa();
    const a = ca.issue('a.test', ['127.0.0.1']);
    const b = ca.issue('b.test', ['127.0.0.1']);
    const dir = makeTempDir('serve-tls-bad');
    const cases = [
      { tls: { certificate: join(dir, 'nowhere.crt'), privateKey: a.privateKey }, error: new RegExp(`^sipwarden: sip\\.tls: cannot read the certificate file ${dir}/nowhere\\.crt: ENOENT\\n$`) },
      { tls: { certificate: a.certificate, privateKey: b.privateKey }, error: /^sipwarden: sip\.tls: .+ this private key does not belong to the certificate .+\n$/ },
    ];
    for (const [i, c] of cases.entries()) {
      const db = join(dir, `never-${i}.db`);
      const config = writeConfig(dir, {
        database: db,
        sip: { listen: { tls: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: 5060, transport: 'tls' }, tls: c.tls },
      }, `bad-${i}.json`);
      const r = await runCli(['serve', '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(c.error);
      expect(existsSync(db)).toBe(false);
    }
  });
});

describe.skipIf(missing !== undefined)(`sipwarden serve reloads its TLS certificate on SIGHUP${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let serve: ServeProcess | undefined;
  let folder: ServeTlsFolder | undefined;
  let target = '';
  const clients: RawSipClient[] = [];

  beforeAll(async () => {
    folder = serveTlsFolder('serve-tls');
    const { dir, database, tls } = folder;
    registrar = await startKamailio({ config: 'registrar' });
    const port = await freePort();
    target = `127.0.0.1:${port}`;
    // Relative paths: read from the config file's folder.
    const config = writeConfig(dir, {
      database,
      log: { level: 'info' },
      sip: {
        listen: { tls: { host: '127.0.0.1', port } },
        tls,
        upstream: { host: '127.0.0.1', port: registrar.port, transport: 'tcp' },
      },
    });
    serve = spawnServe(dir, config);
    await waitUntilServing(serve);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await serve?.stop();
    await registrar?.stop();
  });

  async function connect(): Promise<RawSipClient> {
    const client = await RawSipClient.open('tls', target, { ca: started(folder).ca.caPem, servername: 'sidecar.test' });
    clients.push(client);
    return client;
  }

  async function registers(client: RawSipClient, number: string): Promise<number | undefined> {
    const { text, callId } = registerFrom(client, number);
    return (await client.request(text, callId, WAIT_MS))?.status;
  }

  it('warns at start that a tcp upstream without listen.tcp cannot send requests to clients', () => {
    const warning = started(serve)
      .lines()
      .find((l) => l.level === 40 && String(l.msg).startsWith('sip.listen.tcp is not set'));
    expect(warning, 'start-up warning about the missing tcp listener').toMatchObject({ upstream: expect.stringMatching(/^tcp:127\.0\.0\.1:\d+$/) });
  });

  it('SIGHUP: the connection opened before keeps working, a new handshake gets the renewed certificate', async () => {
    const s = started(serve);
    const before = await connect();
    expect(before.certificate).toBe(started(folder).first.fingerprint256);
    expect(await registers(before, '1001')).toBe(200);

    const reloaded = await renewAndReload(started(folder), s);
    expect(reloaded).toMatchObject({ certificate: { fingerprint256: started(folder).renewed.fingerprint256 } });

    expect(await registers(before, '1002')).toBe(200);
    const after = await connect();
    expect(after.certificate).toBe(started(folder).renewed.fingerprint256);
    expect(await registers(after, '1003')).toBe(200);
    expect(s.exitStatus()).toBeUndefined();
  });

  it('SIGHUP with a key that is not the certificate\'s: refused with an error line, the running certificate stays', async () => {
    const s = started(serve);
    writeFileSync(join(started(folder).dir, 'sidecar.key'), '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    process.kill(s.pid, 'SIGHUP');
    const refused = await s.waitForLine((l) => l.msg === 'TLS reload refused; the running certificate stays', 'the refusal line');
    expect(refused).toMatchObject({ level: 50 });
    expect(JSON.stringify(refused)).toMatch(/sidecar\.key/);
    const client = await connect();
    expect(client.certificate).toBe(started(folder).renewed.fingerprint256);
    expect(await registers(client, '1001')).toBe(200);
    expect(s.exitStatus()).toBeUndefined();
  });
});
