import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../src/policy/reason-table.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { scrape } from '../support/prom-text.js';
import { describeSippRun, runSipp } from '../support/sipp.js';
import { registrationRows } from '../support/sipp-injection.js';
import { CROWDED, SUNRISE } from './projects.js';
import { startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { newToken, UdpSipClient, type SipAnswer } from './udp-sip-client.js';
import { until } from './within.js';

/*
 * Issue 11 items 1-3: the admin listener of a sidecar in front of a real Kamailio registrar. Real
 * SIP traffic (SIPp) goes through, then /metrics is scraped over HTTP; /readyz and the answer to
 * an OPTIONS addressed to the sidecar flip when that Kamailio is stopped and come back when it is
 * started again on the same port; an OPTIONS meant for the SIP server is forwarded to it.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/operations.test.ts SKIPPED: ${missing} ***\n`);

const CONTACT = '127.0.0.1:5999';
/** How long a readiness flip may take: a ping every 500 ms that waits 300 ms, under load. */
const FLIP_MS = 15_000;

async function getJson(url: string): Promise<{ status: number; body: { ready?: boolean; checks?: { name: string; ok: boolean; detail: string }[] } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { ready?: boolean } };
}

function options(client: UdpSipClient, uri: string): { text: string; callId: string } {
  const callId = `${newToken()}@ops`;
  const lines = [
    `OPTIONS ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${client.port};rport;branch=z9hG4bK${newToken()}`,
    'Max-Forwards: 70',
    `From: <sip:monitor@127.0.0.1>;tag=${newToken()}`,
    `To: <${uri}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
  ];
  return { text: `${lines.join('\r\n')}\r\n\r\n`, callId };
}

describe.skipIf(missing !== undefined)(`metrics, readiness and OPTIONS against Kamailio${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let sw: TestSidecar | undefined;
  let client: UdpSipClient | undefined;
  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      policy: { unknownNumbers: 'reject' },
      projects: [SUNRISE, CROWDED],
      health: { upstreamPing: { intervalMs: 500, timeoutMs: 300 } },
    });
    client = await UdpSipClient.open();
  });
  afterAll(async () => {
    await client?.close();
    await sw?.close();
    await registrar?.stop();
  });

  const ask = async (uri: string): Promise<SipAnswer | null> => {
    const target = sw?.udp ?? '';
    const c = client as UdpSipClient;
    const { text, callId } = options(c, uri);
    return c.request(target, text, callId, 3000);
  };
  const own = (): string => `sip:${sw?.udp ?? ''}`;

  it('is ready once the upstream answered its OPTIONS ping; /healthz answers', async () => {
    const url = sw?.adminUrl ?? '';
    await until(FLIP_MS, async () => (await getJson(`${url}/readyz`)).status === 200, 'readyz 200');
    const ready = await getJson(`${url}/readyz`);
    expect(ready.body.checks?.map((c) => [c.name, c.ok])).toEqual([
      ['database', true],
      ['snapshot', true],
      ['upstream', true],
    ]);
    expect((await getJson(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('counts SIPp REGISTERs by method, transport, decision and reason-table label in /metrics', async () => {
    const result = await runSipp({
      scenario: 'register.xml',
      target: sw?.udp ?? '',
      transport: 'u1',
      calls: 3,
      timeoutSec: 10,
      injection: registrationRows([
        { number: '1001', contact: CONTACT },
        { number: '1002', contact: CONTACT },
        { number: '3003', contact: CONTACT, expect: 403, reason: 'virtual-numbers-exceeded' },
      ]),
    });
    expect(result.exitCode, describeSippRun(result)).toBe(0);
    expect(result.stats?.successful, describeSippRun(result)).toBe(3);

    const m = await scrape(sw?.adminUrl ?? '');
    const base = { method: 'REGISTER', transport: 'udp' };
    expect(m.value('sipwarden_decisions_total', { ...base, decision: 'allow', reason: 'licensed' })).toBe(2);
    expect(m.value('sipwarden_decisions_total', { ...base, decision: 'deny', reason: REASONS['virtual-numbers-exceeded'].metric })).toBe(1);
    expect(m.value('sipwarden_decision_duration_seconds_count', { method: 'REGISTER' })).toBe(3);
    expect(m.value('sipwarden_decision_duration_seconds_bucket', { method: 'REGISTER', le: '+Inf' })).toBe(3);
    // The two 200s were Kamailio's, relayed back; the 403 was the sidecar's own.
    expect(m.value('sipwarden_sip_requests_forwarded_total')).toBeGreaterThanOrEqual(2);
    expect(m.value('sipwarden_sip_responses_forwarded_total')).toBeGreaterThanOrEqual(2);
    expect(m.value('sipwarden_sip_local_replies_total')).toBeGreaterThanOrEqual(1);
    // Licences per project from the snapshot: Crowded's limit was lowered to 2 under 3 numbers.
    expect(m.value('sipwarden_license_used', { group: 'Crowded', kind: 'numbers' })).toBe(3);
    expect(m.value('sipwarden_license_limit', { group: 'Crowded', kind: 'numbers' })).toBe(2);
    expect(m.value('sipwarden_license_window', { group: 'Sunrise', state: 'active' })).toBe(1);
    expect(m.value('sipwarden_license_valid_until_timestamp_seconds', { group: 'Sunrise' })).toBe(Date.parse('2100-01-01T00:00:00Z') / 1000);
    expect(m.value('sipwarden_projects', { state: 'active' })).toBe(2);
    expect(m.value('sipwarden_upstream_up')).toBe(1);
    expect(m.value('sipwarden_ready', { check: 'upstream' })).toBe(1);
    expect(m.value('sipwarden_store_writable')).toBe(1);
    expect(m.value('sipwarden_outbox_events', { status: 'dead' })).toBe(0);
    expect(m.value('sipwarden_connections_open', { transport: 'tcp' })).toBe(0);
    // Node's process defaults, under their standard names.
    expect(m.all('process_cpu_user_seconds_total').length).toBe(1);
    expect(m.all('nodejs_eventloop_lag_seconds').length).toBe(1);
    // Prometheus naming: every counter ends in _total, every name is sipwarden_, process_ or nodejs_.
    for (const [name, type] of m.types) {
      expect(name).toMatch(/^(sipwarden|process|nodejs)_/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
  });

  it('answers an OPTIONS addressed to itself 200 while ready and forwards one meant for the SIP server', async () => {
    const mine = await ask(own());
    expect(mine?.status).toBe(200);
    expect(mine?.header('server')).toBeUndefined();
    const theirs = await ask('sip:intercom.example');
    expect(theirs?.status).toBe(200);
    expect(theirs?.header('server')).toMatch(/kamailio/i);
    const m = await scrape(sw?.adminUrl ?? '');
    expect(m.value('sipwarden_sip_own_options_total', { status: '200' })).toBe(1);
  });

  it('is not ready while Kamailio is stopped (readyz 503, OPTIONS to itself 503), and ready again once it is back', async () => {
    const url = sw?.adminUrl ?? '';
    const port = registrar?.port ?? 0;
    await registrar?.stop();
    await until(FLIP_MS, async () => (await getJson(`${url}/readyz`)).status === 503, 'readyz 503');
    const down = await getJson(`${url}/readyz`);
    expect(down.body.ready).toBe(false);
    expect(down.body.checks?.find((c) => c.name === 'upstream')).toMatchObject({ ok: false });
    expect(down.body.checks?.find((c) => c.name === 'database')).toMatchObject({ ok: true });

    const mine = await ask(own());
    expect(mine?.status).toBe(503);
    expect(mine?.header('warning')).toMatch(/^399 \S+ "not ready: upstream/);
    // Meant for the SIP server: forwarded, so the monitor learns it is down (no answer from anyone).
    expect(await ask('sip:intercom.example')).toBeNull();

    let m = await scrape(url);
    expect(m.value('sipwarden_upstream_up')).toBe(0);
    expect(m.value('sipwarden_ready', { check: 'upstream' })).toBe(0);
    expect(m.value('sipwarden_sip_own_options_total', { status: '503' })).toBe(1);
    expect(m.all('sipwarden_upstream_pings_total', { result: 'timeout' }).concat(m.all('sipwarden_upstream_pings_total', { result: 'error' })).some((s) => s.value > 0)).toBe(true);

    registrar = await startKamailio({ config: 'registrar', port });
    await until(FLIP_MS, async () => (await getJson(`${url}/readyz`)).status === 200, 'readyz 200 again');
    expect((await ask(own()))?.status).toBe(200);
    m = await scrape(url);
    expect(m.value('sipwarden_upstream_up')).toBe(1);
  });
});
