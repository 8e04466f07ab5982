import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { Readiness } from '../../src/ops/readiness.js';
import { assertBuilt, killRunning, oneErrorLine, runCli } from '../cli/cli-harness.js';
import { startTestSidecar, type TestSidecar } from '../e2e/sidecar-fixture.js';
import { freePort } from '../support/ports.js';
import { problemsOf } from '../support/config-problems.js';
import { UdpPeer } from '../sip/peers.js';

/*
 * Issue 11 items 1 and 3: the admin listener's configuration (loopback by default, off with
 * null), the snapshot-age readiness check, and `sipwarden status` (the built CLI, run as a child
 * process) against a running sidecar's admin listener.
 */

const minimal = { sip: { upstream: { host: '127.0.0.1', port: 5080 } } };

describe('admin.listen', () => {
  it('defaults to 127.0.0.1:9060, turns off with null, takes ::1 and localhost', () => {
    expect(parseConfig(minimal, {}, 'test').admin.listen).toEqual({ host: '127.0.0.1', port: 9060 });
    expect(parseConfig({ ...minimal, admin: { listen: null } }, {}, 'test').admin.listen).toBeNull();
    expect(parseConfig({ ...minimal, admin: { listen: { host: '::1' } } }, {}, 'test').admin.listen).toEqual({ host: '::1', port: 9060 });
    expect(parseConfig({ ...minimal, admin: { listen: { host: 'localhost', port: 9999 } } }, {}, 'test').admin.listen?.port).toBe(9999);
  });

  it('refuses a public or wildcard address unless admin.allowRemote says so on purpose', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'sip-edge.example']) {
      expect(problemsOf(() => parseConfig({ ...minimal, admin: { listen: { host, port: 9060 } } }, {}, 'test'))[0]).toMatch(
        /^admin\.listen\.host: .*not a loopback address.*admin\.allowRemote/,
      );
    }
    expect(parseConfig({ ...minimal, admin: { listen: { host: '0.0.0.0', port: 9060 }, allowRemote: true } }, {}, 'test').admin.listen?.host).toBe('0.0.0.0');
  });

  it('refuses upstream pings faster than 500 ms and a snapshot age under a second', () => {
    expect(problemsOf(() => parseConfig({ ...minimal, health: { upstreamPing: { intervalMs: 100 } } }, {}, 'test'))[0]).toMatch(/^health\.upstreamPing\.intervalMs: /);
    expect(problemsOf(() => parseConfig({ ...minimal, health: { maxSnapshotAgeMs: 10 } }, {}, 'test'))[0]).toMatch(/^health\.maxSnapshotAgeMs: /);
  });
});

describe('Readiness', () => {
  it('fails the snapshot check once the snapshot was not checked for longer than the limit, naming the age', () => {
    let age = 500;
    const r = new Readiness({ databaseProblem: () => null, snapshotAgeMs: () => age, maxSnapshotAgeMs: 10_000, upstream: null });
    expect(r.notReady()).toBeNull();
    expect(r.report().checks.map((c) => c.name)).toEqual(['database', 'snapshot']);
    age = 12_345;
    expect(r.report().ready).toBe(false);
    expect(r.notReady()).toBe('license snapshot not checked against the database for 12.3 s (limit 10.0 s)');
  });

  it('fails the database check with what the read said', () => {
    const r = new Readiness({ databaseProblem: () => 'database not readable: disk I/O error', snapshotAgeMs: () => 0, maxSnapshotAgeMs: 10_000, upstream: null });
    expect(r.notReady()).toBe('database not readable: disk I/O error');
  });
});

describe('a sidecar with admin.listen null', () => {
  it('opens no admin listener', async () => {
    const upstream = await UdpPeer.open('upstream');
    const dir = mkdtempSync(join(tmpdir(), 'sipwarden-admin-'));
    const { startSidecar } = await import('../../src/main.js');
    const config = parseConfig(
      {
        database: join(dir, 'sipwarden.db'),
        log: { level: 'silent' },
        sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: upstream.port } },
        createDatabase: true,
        admin: { listen: null },
        health: { upstreamPing: null },
      },
      {},
      'test',
    );
    const sidecar = await startSidecar(config);
    try {
      expect(sidecar.operations.adminAddress).toBeNull();
    } finally {
      await sidecar.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sipwarden status', () => {
  let sw: TestSidecar | undefined;
  let upstream: UdpPeer | undefined;
  beforeAll(async () => {
    assertBuilt();
    upstream = await UdpPeer.open('upstream');
    sw = await startTestSidecar({
      upstream: { port: upstream.port },
      projects: [{ group: 'Sunrise', validFrom: '2020-01-01T00:00:00Z', validUntil: '2100-01-01T00:00:00Z', numbers: ['1001'] }],
      health: { upstreamPing: null },
    });
  }, 60_000);
  afterEach(() => killRunning());
  afterAll(async () => {
    await sw?.close();
    await upstream?.close();
  });

  it('prints one screen: ready, listeners, upstream, decisions, licences, outbox', async () => {
    const r = await runCli(['status', '--url', sw?.adminUrl ?? '']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(25);
    expect(lines[0]).toMatch(/^sipwarden \S+ {2}pid \d+ {2}embedded mode {2}up /);
    expect(r.stdout).toMatch(/^ready: +yes$/m);
    expect(r.stdout).toMatch(/^ {2}ok {3}database/m);
    expect(r.stdout).toContain(`udp ${sw?.udp ?? '?'}`);
    expect(r.stdout).toMatch(/^licences: +1 projects active/m);
    expect(r.stdout).toMatch(/^outbox: +\d+ pending, \d+ delivered, \d+ failed, 0 dead/m);
  }, 60_000);

  it('prints the same report as JSON with --json', async () => {
    const r = await runCli(['status', '--url', sw?.adminUrl ?? '', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ready: { ready: boolean }; licenses: { projects: { active: number } } };
    expect(report.ready.ready).toBe(true);
    expect(report.licenses.projects.active).toBe(1);
  }, 60_000);

  it('finds the admin listener from --config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipwarden-status-'));
    try {
      const port = Number(new URL(sw?.adminUrl ?? 'http://x:0').port);
      const file = join(dir, 'sipwarden.json');
      writeFileSync(file, JSON.stringify({ ...minimal, admin: { listen: { host: '127.0.0.1', port } } }));
      const r = await runCli(['status', '--config', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ready: +yes$/m);

      writeFileSync(file, JSON.stringify({ ...minimal, admin: { listen: null } }));
      const off = await runCli(['status', '--config', file]);
      expect(off.code).toBe(2);
      expect(oneErrorLine(off)).toMatch(/admin listener is off \(admin\.listen: null\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says in one line that nothing answers, exit 1; a bad --url is bad input, exit 2', async () => {
    const closed = await freePort();
    const r = await runCli(['status', '--url', `http://127.0.0.1:${closed}`]);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(new RegExp(`no sidecar answered at http://127\\.0\\.0\\.1:${closed}/status`));
    const bad = await runCli(['status', '--url', 'not a url']);
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/--url: "not a url" is not a URL/);
  }, 60_000);
});
