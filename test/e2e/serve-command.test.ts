import { createSocket } from 'node:dgram';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { loadConfig } from '../../src/config/load-config.js';
import { killRunning, oneErrorLine, runCli } from '../cli/cli-harness.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { freePort } from '../support/ports.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { LAPSED, SUNRISE, UNKNOWN_NUMBER } from './projects.js';
import { spawnServe, waitUntilServing, writeConfig, type ServeProcess } from './serve-process.js';
import { seedProject, started } from './sidecar-fixture.js';
import { UdpSipClient } from './udp-sip-client.js';

/*
 * `sipwarden serve` as an operator runs it: a bad configuration is refused at start-up with every
 * problem listed; a good one serves, logs one JSON line per refused request, survives malformed
 * input on its real UDP socket, and on SIGTERM exits 0 and gives its ports back.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/serve-command.test.ts SKIPPED: ${missing} ***\n`);

describe('sipwarden serve with a bad configuration', () => {
  afterAll(() => killRunning());

  it('exits 2, lists every problem on stderr and creates nothing', async () => {
    const dir = makeTempDir('serve-bad');
    const db = join(dir, 'never.db');
    const path = writeConfig(
      dir,
      {
        database: db,
        sip: { listen: { udp: { port: 70000 } }, upstream: { port: 'x' }, bogus: true },
        policy: { unknownNumbers: 'maybe', mobileAppUserAgent: '([' },
        reload: { intervalMs: 5000 },
      },
      'bad.json',
    );
    const r = await runCli(['serve', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const expected = [
      /sip\.listen\.udp\.port: .*65535/,
      /sip\.upstream\.host: /,
      /sip\.upstream\.port: .*number/,
      /sip: .*"bogus"/,
      /policy\.unknownNumbers: .*"allow"\|"reject"/,
      /policy\.mobileAppUserAgent: must be a valid regular expression/,
      /reload\.intervalMs: .*1000/,
    ];
    for (const pattern of expected) expect(lines.filter((l) => pattern.test(l)), String(pattern)).toHaveLength(1);
    expect(lines).toHaveLength(expected.length);
    for (const line of lines) expect(line.startsWith(`sipwarden: ${path}: `), line).toBe(true);
    expect(existsSync(db)).toBe(false);
  });

  it('exits 2 naming the path when the database does not exist, and creates nothing', async () => {
    const dir = makeTempDir('serve-no-db');
    const db = join(dir, 'typo', 'sipwarden.db');
    const path = writeConfig(dir, { database: db, sip: { listen: { udp: { port: 0 } }, upstream: { host: '127.0.0.1' } } });
    const r = await runCli(['serve', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r)).toBe(
      `sipwarden: database ${db} does not exist; expected a database made by 'sipwarden --db ${db} init', or "createDatabase": true in the configuration to start with an empty one`,
    );
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('with "createDatabase": true creates the database readable by its owner only, and serves', async () => {
    const dir = makeTempDir('serve-create-db');
    const db = join(dir, 'data', 'sipwarden.db');
    const path = writeConfig(dir, {
      database: db,
      createDatabase: true,
      sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1' } },
    });
    const serve = spawnServe(dir, path);
    try {
      await waitUntilServing(serve);
      const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
      expect([mode(db), mode(`${db}-wal`), mode(`${db}-shm`)]).toEqual(['600', '600', '600']);
      expect(serve.lines().find((l) => l.msg === 'license snapshot loaded')).toMatchObject({ groups: 0, numbers: 0 });
    } finally {
      expect(await serve.stop(5000)).toEqual({ code: 0, signal: null });
    }
  });

  it('the quick-start config creates its database, so that npm start works on a fresh machine', () => {
    expect(loadConfig(join(REPO_ROOT, 'config', 'sipwarden.json'), {}).createDatabase).toBe(true);
    expect(loadConfig(join(REPO_ROOT, 'config', 'docker.json'), {}).createDatabase).toBe(false);
  });

  it('exits 2 with one line naming upstream.transport for a UDP upstream without a UDP listener, and creates nothing', async () => {
    const dir = makeTempDir('serve-bad');
    const db = join(dir, 'never.db');
    const path = writeConfig(dir, { database: db, sip: { listen: { tcp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: 5060, transport: 'udp' } } }, 'udp-upstream.json');
    const r = await runCli(['serve', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`sipwarden: ${path}: sip.upstream.transport: upstream.transport "udp" (the default) needs listen.udp, where the upstream's answers arrive; add listen.udp or set upstream.transport to "tcp" or "tls"\n`);
    expect(existsSync(db)).toBe(false);
  });

  it('exits 2 with one line for a file that is not JSON', async () => {
    const dir = makeTempDir('serve-bad');
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "sip": ');
    const r = await runCli(['serve', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^sipwarden: ${path}: not valid JSON: .+\\n$`));
  });
});

describe.skipIf(missing !== undefined)(`sipwarden serve with real peers${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let serve: ServeProcess | undefined;
  let client: UdpSipClient | undefined;
  let port = 0;

  beforeAll(async () => {
    const dir = makeTempDir('serve');
    const database = join(dir, 'sipwarden.db');
    const db = openDatabase(database, { create: true });
    try {
      seedProject(db, SUNRISE);
      seedProject(db, LAPSED);
    } finally {
      db.close();
    }
    registrar = await startKamailio({ config: 'registrar' });
    // One port for UDP and TCP, as SIP servers listen (RFC 3261 §18); free on both.
    port = await freePort();
    const config = writeConfig(dir, {
      database,
      log: { level: 'info' },
      sip: {
        listen: { udp: { host: '127.0.0.1', port }, tcp: { host: '127.0.0.1', port } },
        upstream: { host: '127.0.0.1', port: registrar.port, transport: 'udp' },
      },
      policy: { unknownNumbers: 'reject' },
    });
    serve = spawnServe(dir, config);
    client = await UdpSipClient.open();
  });
  afterAll(async () => {
    await client?.close();
    await serve?.stop();
    await registrar?.stop();
  });

  it('starts and logs a JSON "sipwarden serving" line with its listeners', async () => {
    const serving = await waitUntilServing(started(serve));
    expect(serving.udp).toEqual({ host: '127.0.0.1', port });
    expect(serving.tcp).toEqual({ host: '127.0.0.1', port });
    const lines = serve?.lines() ?? [];
    expect(lines.find((l) => l.msg === 'license snapshot loaded')).toMatchObject({ groups: 2, numbers: 5, level: 30 });
  });

  it('logs one decision line per refused REGISTER with its call-id, origin, number, group, reason and time', async () => {
    const c = started(client);
    const refused = [
      { number: '5001', group: 'Lapsed', reason: 'license-expired' },
      { number: UNKNOWN_NUMBER, group: null, reason: 'unknown-number' },
    ];
    const callIds: string[] = [];
    for (const r of refused) {
      const { text, callId } = c.registerText(`127.0.0.1:${port}`, { number: r.number });
      const answer = await c.request(`127.0.0.1:${port}`, text, callId, 3000);
      expect(answer?.status).toBe(403);
      expect(answer?.header('x-sipwarden-reason')).toBe(r.reason);
      callIds.push(callId);
    }
    for (const [i, r] of refused.entries()) {
      const line = await started(serve).waitForLine((l) => l.callId === callIds[i], `the decision line of ${r.number}`);
      expect(line).toMatchObject({
        msg: 'refused',
        level: 30,
        app: 'sipwarden',
        method: 'REGISTER',
        transport: 'udp',
        source: `udp:127.0.0.1:${c.port}`,
        number: r.number,
        group: r.group,
        decision: 'deny',
        reason: r.reason,
      });
      expect(typeof line.us === 'number' && line.us >= 0, JSON.stringify(line)).toBe(true);
      expect(serve?.lines().filter((l) => l.callId === callIds[i])).toHaveLength(1);
    }
  });

  it('keeps serving after garbage and a REGISTER without Call-ID (answered 400) on its UDP socket', async () => {
    const c = started(client);
    const sidecar = `127.0.0.1:${port}`;
    await c.send(sidecar, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    await c.send(sidecar, 'REGISTER\r\n\r\n');
    await c.send(sidecar, `${'X'.repeat(2000)}\r\n\r\n`);
    const { text } = c.registerText(sidecar, { number: '1001', omitCallId: true });
    await c.send(sidecar, text);
    const ok = await c.register(sidecar, { number: '1001' });
    expect(ok?.status).toBe(200);
    expect(ok?.header('server')).toMatch(/^kamailio/);
    // RFC 3261 §8.1.1 makes Call-ID mandatory: the sidecar answered 400 at once, before the 200 came.
    const rejected = c.strays.filter((a) => a.status === 400);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.header('call-id')).toBeUndefined();
    expect(serve?.exitStatus()).toBeUndefined();
  });

  it('on SIGTERM logs "stopping", exits 0 and releases its UDP and TCP ports', async () => {
    const exit = await started(serve).stop(5000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(serve?.lines().find((l) => l.msg === 'stopping')).toMatchObject({ signal: 'SIGTERM' });
    expect(serve?.stderr()).toBe('');
    await expect(bindUdp(port)).resolves.toBe(true);
    await expect(bindTcp(port)).resolves.toBe(true);
  });
});

function bindUdp(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

function bindTcp(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
