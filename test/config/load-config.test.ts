import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { problemsOf } from '../support/config-problems.js';

const minimal = { sip: { upstream: { host: '127.0.0.1', port: 5080 } } };

describe('parseConfig', () => {
  it('fills defaults and freezes the result', () => {
    const c = parseConfig(minimal, {}, 'test', '/srv');
    expect(c.sip.mode).toBe('embedded');
    expect(c.sip.upstream).toEqual({ host: '127.0.0.1', port: 5080, transport: 'udp' });
    expect(c.policy.unknownNumbers).toBe('allow');
    expect(c.database).toBe('/srv/sipwarden.db');
    expect(Object.isFrozen(c.sip.upstream)).toBe(true);
    expect(() => {
      (c.sip as { mode: string }).mode = 'drachtio';
    }).toThrow(TypeError);
  });

  it('reads sip.path as always, supported or never (default always; the old booleans still read)', () => {
    const path = (value: unknown): unknown => parseConfig({ sip: { ...minimal.sip, path: value } }, {}, 'test').sip.path;
    expect(parseConfig(minimal, {}, 'test').sip.path).toBe('always');
    expect(path('supported')).toBe('supported');
    expect(path('never')).toBe('never');
    expect(path(true)).toBe('always');
    expect(path(false)).toBe('never');
    expect(problemsOf(() => path('sometimes'))[0]).toMatch(/^sip\.path: /);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() =>
      parseConfig(
        {
          sip: { upstream: { host: '', port: 70000 }, listen: { udp: { port: -1 } } },
          policy: { unknownNumbers: 'maybe', mobileAppUserAgent: '(' },
          typo: 1,
        },
        {},
      ),
    );
    const text = problems.join('\n');
    expect(text).toMatch(/sip\.upstream\.host/);
    expect(text).toMatch(/sip\.upstream\.port/);
    expect(text).toMatch(/sip\.listen\.udp\.port/);
    expect(text).toMatch(/policy\.unknownNumbers/);
    expect(text).toMatch(/policy\.mobileAppUserAgent: must be a valid regular expression/);
    expect(text).toMatch(/typo/);
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('bounds TCP and WebSocket connections by default, and refuses a write queue smaller than a message', () => {
    const c = parseConfig(minimal, {}, 'test', '/srv');
    expect(c.sip.tcp).toEqual({
      maxConnections: 10_000,
      maxConnectionsPerSource: 1024,
      connectionLifetimeMs: 600_000,
      messageReadTimeoutMs: 20_000,
      connectionWriteQueueMax: 262_144,
    });
    const partial = parseConfig({ sip: { ...minimal.sip, tcp: { maxConnectionsPerSource: 16 } } }, {}, 'test', '/srv');
    expect(partial.sip.tcp).toMatchObject({ maxConnectionsPerSource: 16, maxConnections: 10_000 });
    const p = problemsOf(() => parseConfig({ sip: { ...minimal.sip, tcp: { connectionWriteQueueMax: 1000, maxConnections: 0 } } }, {}));
    expect(p.join('\n')).toMatch(/sip\.tcp\.connectionWriteQueueMax: must hold at least one whole SIP message/);
    expect(p.join('\n')).toMatch(/sip\.tcp\.maxConnections/);
  });

  it('ignores domains unless told the SIP server keeps them apart (issue 7, hole 6)', () => {
    expect(parseConfig(minimal, {}).policy).toMatchObject({ useDomain: false, servedDomains: [] });
    // Served domains on a server that ignores domains would leave 1001@another-domain unchecked.
    const p = problemsOf(() => parseConfig({ ...minimal, policy: { servedDomains: ['intercom.example'] } }, {}));
    expect(p.join('\n')).toMatch(/policy\.servedDomains: servedDomains needs useDomain: true/);
    const c = parseConfig({ ...minimal, policy: { useDomain: true, servedDomains: ['intercom.example'] } }, {});
    expect(c.policy).toMatchObject({ useDomain: true, servedDomains: ['intercom.example'] });
  });

  it('captures to Homer only when capture.hep is given, with Kamailio siptrace defaults; the key never prints', () => {
    expect(parseConfig(minimal, {}, 'test').capture.hep).toBeNull();
    const c = parseConfig({ ...minimal, capture: { hep: { host: 'homer.example', password: 'k3y' } } }, {}, 'test');
    expect(c.capture.hep).toMatchObject({ host: 'homer.example', port: 9060, id: 1, transport: 'udp', maxInFlight: 1024 });
    expect(c.capture.hep?.password?.reveal()).toBe('k3y');
    expect(JSON.stringify(c)).not.toContain('k3y');
    const problems = problemsOf(() => parseConfig({ ...minimal, capture: { hep: { host: 'h', transport: 'tcp', id: -1 } } }, {}, 'test')).join('\n');
    expect(problems).toMatch(/capture\.hep\.transport/);
    expect(problems).toMatch(/capture\.hep\.id/);
    const drachtio = { sip: { ...minimal.sip, mode: 'drachtio', drachtio: { secret: 's' } }, capture: { hep: { host: 'h' } } };
    expect(problemsOf(() => parseConfig(drachtio, {}, 'test'))).toEqual([expect.stringMatching(/^capture\.hep: .*drachtio-server captures SIP itself/)]);
  });

  it('reads TLS and WSS listeners, their certificate files relative to the config file, and the upstream TLS checks', () => {
    const c = parseConfig(
      {
        sip: {
          listen: { tls: { host: '0.0.0.0', port: 5061 }, wss: { host: '0.0.0.0', port: 8443 } },
          tls: { certificate: 'tls/cert.pem', privateKey: '/etc/ssl/private/key.pem' },
          upstream: { host: 'kamailio.internal', port: 5061, transport: 'tls', tls: { caList: 'ca.pem' } },
        },
      },
      {},
      'test',
      '/srv/sipwarden',
    );
    expect(c.sip.listen.tls).toEqual({ host: '0.0.0.0', port: 5061 });
    expect(c.sip.tls).toEqual({ certificate: '/srv/sipwarden/tls/cert.pem', privateKey: '/etc/ssl/private/key.pem' });
    expect(c.sip.upstream.tls).toEqual({ caList: '/srv/sipwarden/ca.pem', verifyCertificate: true });
  });

  it('refuses TLS listeners without certificate files, TLS checks on a plain upstream, and half a client certificate', () => {
    const problems = problemsOf(() =>
      parseConfig(
        {
          sip: {
            listen: { tls: { host: '127.0.0.1', port: 5061 }, wss: { host: '127.0.0.1', port: 8443 } },
            upstream: { host: '127.0.0.1', port: 5060, transport: 'udp', tls: { certificate: 'client.pem' } },
          },
        },
        {},
      ),
    );
    expect(problems).toContain('sip.tls: listen.tls needs sip.tls: {certificate, privateKey} (PEM files)');
    expect(problems).toContain('sip.tls: listen.wss needs sip.tls: {certificate, privateKey} (PEM files)');
    expect(problems.some((p) => p.startsWith('sip.upstream.tls.privateKey: a client certificate needs both'))).toBe(true);
    expect(problemsOf(() => parseConfig({ sip: { upstream: { host: 'h', port: 5060, transport: 'sctp' } } }, {}))[0]).toMatch(/^sip\.upstream\.transport: .*"tls"/);
    const plain = problemsOf(() => parseConfig({ sip: { upstream: { host: 'h', port: 5060, tls: { verifyCertificate: false } } } }, {}));
    expect(plain).toEqual(['sip.upstream.tls: upstream.tls applies to upstream.transport "tls" (it is "udp")']);
  });

  it('sheds load by default, and refuses a Retry-After range upside down', () => {
    const c = parseConfig(minimal, {}, 'test', '/srv');
    expect(c.sip.overload).toEqual({ enabled: true, targetDelayMs: 50, retryAfter: { min: 5, max: 20 } });
    expect(c.log.refusalLinesPerSecond).toBe(200);
    const p = problemsOf(() => parseConfig({ sip: { ...minimal.sip, overload: { retryAfter: { min: 30, max: 10 } } } }, {}));
    expect(p.join('\n')).toMatch(/sip\.overload\.retryAfter\.max: must not be below min \(30\)/);
    const q = problemsOf(() => parseConfig({ log: { refusalLinesPerSecond: 0 }, sip: { ...minimal.sip, overload: { targetDelayMs: 600 } } }, {}));
    expect(q.join('\n')).toMatch(/sip\.overload\.targetDelayMs/);
    expect(q.join('\n')).toMatch(/log\.refusalLinesPerSecond/);
  });

  it('refuses a UDP upstream without a UDP listener (its answers would have nowhere to arrive); TCP and TLS upstreams dial out', () => {
    const udpProblem = 'sip.upstream.transport: upstream.transport "udp" (the default) needs listen.udp, where the upstream\'s answers arrive; add listen.udp or set upstream.transport to "tcp" or "tls"';
    const tcpOnly = { tcp: { host: '127.0.0.1', port: 5060 } };
    expect(problemsOf(() => parseConfig({ sip: { listen: tcpOnly, upstream: { host: 'h', transport: 'udp' } } }, {}))).toEqual([udpProblem]);
    // The default transport is udp: leaving it out of a TCP-only config is the same mistake.
    expect(problemsOf(() => parseConfig({ sip: { listen: tcpOnly, upstream: { host: 'h' } } }, {}))).toEqual([udpProblem]);
    expect(parseConfig({ sip: { listen: tcpOnly, upstream: { host: 'h', transport: 'tcp' } } }, {}).sip.upstream.transport).toBe('tcp');
    expect(parseConfig({ sip: { listen: tcpOnly, upstream: { host: 'h', transport: 'tls' } } }, {}).sip.upstream.transport).toBe('tls');
    expect(parseConfig({ sip: { listen: { udp: { host: '127.0.0.1', port: 5060 } }, upstream: { host: 'h' } } }, {}).sip.upstream.transport).toBe('udp');
    // drachtio mode: drachtio-server holds the sockets, sipwarden's listen is not used.
    expect(parseConfig({ sip: { mode: 'drachtio', listen: tcpOnly, upstream: { host: 'h' }, drachtio: { secret: 's' } } }, {}).sip.mode).toBe('drachtio');
  });

  it('requires an upstream and a drachtio secret in drachtio mode', () => {
    expect(problemsOf(() => parseConfig({}, {})).join('\n')).toMatch(/sip/);
    const p = problemsOf(() => parseConfig({ sip: { ...minimal.sip, mode: 'drachtio' } }, {}));
    expect(p.join('\n')).toMatch(/drachtio\.secret/);
  });

  it('applies environment overrides over the file', () => {
    const c = parseConfig(minimal, {
      SIPWARDEN_DB: '/var/lib/sipwarden/x.db',
      SIPWARDEN_UPSTREAM: '127.0.0.2:5090',
      SIPWARDEN_LOG_LEVEL: 'debug',
      SIPWARDEN_SIP_MODE: 'drachtio',
      SIPWARDEN_DRACHTIO_SECRET: 's3cret',
      SIPWARDEN_ADVERTISED_HOST: 'sip-edge.example',
    });
    expect(c.sip.advertisedHost).toBe('sip-edge.example');
    expect(c.database).toBe('/var/lib/sipwarden/x.db');
    expect(c.sip.upstream.host).toBe('127.0.0.2');
    expect(c.sip.upstream.port).toBe(5090);
    expect(c.log.level).toBe('debug');
    expect(c.sip.drachtio?.secret).toBe('s3cret');
  });

  it('rejects a malformed SIPWARDEN_UPSTREAM with the expected form', () => {
    expect(problemsOf(() => parseConfig(minimal, { SIPWARDEN_UPSTREAM: 'nowhere' })).join()).toMatch(
      /SIPWARDEN_UPSTREAM: expected host:port/,
    );
  });

  it('rejects a non-object configuration', () => {
    expect(problemsOf(() => parseConfig([1, 2], {})).join()).toMatch(/must be a JSON object/);
  });
});

describe('loadConfig', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the database path relative to the config file', () => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ ...minimal, database: 'data/x.db' }));
    expect(loadConfig(file, {}).database).toBe(join(dir, 'data/x.db'));
  });

  it('reports unreadable and non-JSON files clearly', () => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ not json');
    expect(problemsOf(() => loadConfig(file, {})).join()).toMatch(/not valid JSON/);
    expect(problemsOf(() => loadConfig(join(dir, 'missing.json'), {})).join()).toMatch(/cannot read the file/);
  });

  it('ships a default config that validates', () => {
    const c = loadConfig(new URL('../../config/sipwarden.json', import.meta.url).pathname, {});
    expect(c.sip.mode).toBe('embedded');
  });
});
