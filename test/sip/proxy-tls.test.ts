import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startEmbeddedProxy, type EmbeddedProxy } from '../../src/sip/proxy/embedded-proxy.js';
import { proxyUri } from '../../src/sip/proxy/forward-request.js';
import { loadTlsCredentials, upstreamTlsOptions } from '../../src/sip/transports/tls-credentials.js';
import { makeTestCa, opensslMissing, type IssuedCertificate, type TestCa } from '../support/test-ca.js';
import { header, headers, register, response, startLine } from './messages.js';
import { TcpClient, TcpServerPeer, WsClient } from './peers.js';

/*
 * SIP over TLS (RFC 3261 §26) and secure WebSocket (RFC 7118) on real sockets, with a CA the test
 * makes: the listeners present the configured certificate, messages keep their framing, Via and
 * Record-Route/Path name the secure transport, the upstream is reached over TLS only when its
 * certificate verifies, and new credentials apply to new handshakes while open connections go on.
 */

const missing = opensslMissing();
if (missing) console.warn(`\n*** test/sip/proxy-tls.test.ts SKIPPED: ${missing} ***\n`);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(missing !== undefined)(`embedded proxy over TLS and WSS${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let ca: TestCa | undefined;
  let otherCa: TestCa | undefined;
  let server: IssuedCertificate | undefined;
  let renewed: IssuedCertificate | undefined;
  let upstreamCert: IssuedCertificate | undefined;
  let stranger: IssuedCertificate | undefined;

  beforeAll(() => {
    ca = makeTestCa();
    otherCa = makeTestCa('some other CA');
    server = ca.issue('sidecar.test', ['127.0.0.1', 'sidecar.test']);
    renewed = ca.issue('sidecar.test', ['127.0.0.1', 'sidecar.test']);
    upstreamCert = ca.issue('kamailio.test', ['127.0.0.1', 'kamailio.test']);
    stranger = otherCa.issue('kamailio.test', ['127.0.0.1', 'kamailio.test']);
  });
  afterAll(() => undefined);

  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('beforeAll did not make the certificates');
    return v;
  };
  const trust = () => ({ ca: must(ca).caPem, servername: 'sidecar.test' });

  /** A proxy with TLS and WSS listeners before a TLS upstream whose certificate is `upstreamIssued`. */
  async function tlsProxy(upstreamIssued: IssuedCertificate, logs?: string[]): Promise<{ proxy: EmbeddedProxy; upstream: TcpServerPeer }> {
    const upstreamCreds = loadTlsCredentials(upstreamIssued);
    const upstream = await TcpServerPeer.open(upstreamCreds.context);
    cleanups.push(() => upstream.close());
    const logger = logs === undefined ? undefined : pino({ level: 'warn' }, { write: (l: string) => void logs.push(l) });
    const proxy = await startEmbeddedProxy({
      listen: { tls: { host: '127.0.0.1', port: 0 }, wss: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'tls' },
      tls: loadTlsCredentials(must(server)).context,
      upstreamTls: upstreamTlsOptions({ caList: must(ca).caCertificate, verifyCertificate: true, serverName: 'kamailio.test' }, '127.0.0.1'),
      ...(logger === undefined ? {} : { logger }),
    });
    cleanups.push(() => proxy.close());
    return { proxy, upstream };
  }

  it('a REGISTER over TLS reaches a TLS upstream with a TLS Via and Path, and its 200 comes back on the connection', async () => {
    const { proxy, upstream } = await tlsProxy(must(upstreamCert));
    const tlsPort = proxy.addresses.tls?.port ?? 0;
    const client = await TcpClient.connect(tlsPort, trust());
    cleanups.push(() => client.close());
    expect(client.peerCertificate()?.fingerprint256).toBe(must(server).fingerprint256);

    await client.write(register({ callId: 'tls-reg', branch: 'z9hG4bK-tls1', viaTransport: 'TLS' }, ['Supported: path']));
    const up = await upstream.next();
    expect(header(up.text, 'Call-ID')).toBe('tls-reg');
    const via = headers(up.text, 'Via');
    expect(via[0]).toMatch(new RegExp(`^SIP/2.0/TLS 127\\.0\\.0\\.1:${tlsPort};branch=`));
    expect(via[1]).toBe(`SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK-tls1;received=127.0.0.1;rport=${client.localPort}`);
    expect(header(up.text, 'Path')).toMatch(new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${tlsPort};transport=tls;lr>$`));

    upstream.reply(up.port, response(up.text, 200, 'OK'));
    const answer = await client.next();
    expect(startLine(answer.text)).toBe('SIP/2.0 200 OK');
    expect(headers(answer.text, 'Via')).toHaveLength(1);
  });

  it('a REGISTER over WSS reaches the TLS upstream with the client\'s WSS Via and a Path to our TLS side', async () => {
    const { proxy, upstream } = await tlsProxy(must(upstreamCert));
    const wssPort = proxy.addresses.wss?.port ?? 0;
    const client = await WsClient.connect(wssPort, 'sip', trust());
    cleanups.push(() => client.close());
    client.send(register({ callId: 'wss-reg', branch: 'z9hG4bK-wss1', viaTransport: 'WSS', sentBy: 'df7jal23ls0d.invalid' }, ['Supported: path']));
    const up = await upstream.next();
    expect(headers(up.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2.0/TLS 127\\.0\\.0\\.1:${proxy.addresses.tls?.port ?? 0};`));
    expect(headers(up.text, 'Via')[1]).toMatch(/^SIP\/2.0\/WSS df7jal23ls0d\.invalid;branch=z9hG4bK-wss1;received=127\.0\.0\.1;rport=\d+$/);
    // Path is how the registrar reaches us again: our side facing it, TLS.
    expect(header(up.text, 'Path')).toMatch(new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${proxy.addresses.tls?.port ?? 0};transport=tls;lr>$`));
    upstream.reply(up.port, response(up.text, 200, 'OK'));
    const answer = await client.next();
    expect(startLine(answer.text)).toBe('SIP/2.0 200 OK');
    expect(header(answer.text, 'Call-ID')).toBe('wss-reg');
  });

  it('does not send to an upstream whose certificate does not chain to the configured CA (RFC 3261 §26.3.1), and says so', async () => {
    const logs: string[] = [];
    const { proxy, upstream } = await tlsProxy(must(stranger), logs);
    const client = await TcpClient.connect(proxy.addresses.tls?.port ?? 0, trust());
    cleanups.push(() => client.close());
    await client.write(register({ callId: 'tls-untrusted', branch: 'z9hG4bK-tls2', viaTransport: 'TLS' }));
    await expect(upstream.next()).rejects.toThrow();
    const warning = logs.map((l) => JSON.parse(l) as { msg: string; err?: { code?: string } }).find((l) => l.msg === 'TLS connection to the next hop failed');
    expect(warning?.err?.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });

  it('new credentials: open TLS and WSS connections keep working, new handshakes get the new certificate', async () => {
    const { proxy, upstream } = await tlsProxy(must(upstreamCert));
    const tlsPort = proxy.addresses.tls?.port ?? 0;
    const wssPort = proxy.addresses.wss?.port ?? 0;
    const before = await TcpClient.connect(tlsPort, trust());
    cleanups.push(() => before.close());
    const wsBefore = await WsClient.connect(wssPort, 'sip', trust());
    cleanups.push(() => wsBefore.close());

    proxy.setTls(loadTlsCredentials(must(renewed)).context, upstreamTlsOptions({ caList: must(ca).caCertificate, verifyCertificate: true, serverName: 'kamailio.test' }, '127.0.0.1'));

    const after = await TcpClient.connect(tlsPort, trust());
    cleanups.push(() => after.close());
    expect(before.peerCertificate()?.fingerprint256).toBe(must(server).fingerprint256);
    expect(after.peerCertificate()?.fingerprint256).toBe(must(renewed).fingerprint256);
    expect(must(renewed).fingerprint256).not.toBe(must(server).fingerprint256);

    // The connection opened before the change still carries requests and their answers.
    for (const [client, id] of [[before, 'old'], [after, 'new']] as const) {
      await client.write(register({ callId: `tls-${id}`, branch: `z9hG4bK-${id}`, viaTransport: 'TLS' }));
      const up = await upstream.next();
      expect(header(up.text, 'Call-ID')).toBe(`tls-${id}`);
      upstream.reply(up.port, response(up.text, 200, 'OK'));
      expect(header((await client.next()).text, 'Call-ID')).toBe(`tls-${id}`);
    }
    wsBefore.send(register({ callId: 'wss-old', branch: 'z9hG4bK-wssold', viaTransport: 'WSS' }));
    const up = await upstream.next();
    upstream.reply(up.port, response(up.text, 200, 'OK'));
    expect(header((await wsBefore.next()).text, 'Call-ID')).toBe('wss-old');
    // A WSS handshake after the change gets the new certificate too.
    const wsAfterCert = await new Promise<string | undefined>((resolve, reject) => {
      void import('node:tls').then(({ connect }) => {
        const s = connect({ host: '127.0.0.1', port: wssPort, ...trust() }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.destroy();
        });
        s.once('error', reject);
      });
    });
    expect(wsAfterCert).toBe(must(renewed).fingerprint256);
  });

  it('names a WSS listener transport=ws in Record-Route and Path, the one value RFC 7118 §5.2 defines', () => {
    expect(proxyUri('127.0.0.1', 8443, 'wss', null)).toBe('<sip:127.0.0.1:8443;transport=ws;lr>');
    expect(proxyUri('127.0.0.1', 5061, 'tls', 'tok')).toBe('<sip:tok@127.0.0.1:5061;transport=tls;lr>');
  });

  it('refuses TLS listeners without a certificate', async () => {
    await expect(
      startEmbeddedProxy({ listen: { tls: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: 5060, transport: 'tls' } }),
    ).rejects.toThrow(/certificate and key/);
  });
});
