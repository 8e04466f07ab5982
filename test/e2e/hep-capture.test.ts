import type { HepDecoded } from 'hep-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { HepCollector } from '../sip/capture/hep-collector.js';
import { LAPSED, SUNRISE } from './projects.js';
import { started, startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { UdpSipClient } from './udp-sip-client.js';

/*
 * SIP capture for Homer: the sidecar mirrors what it receives and sends to a HEP collector (a real
 * UDP socket decoding with sipcapture's hep-js), and attaches each decision as a HEP log chunk
 * correlated by Call-ID, as Kamailio's siptrace and hlog() do.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/hep-capture.test.ts SKIPPED: ${missing} ***\n`);

const isSip = (p: HepDecoded): boolean => p.rcinfo.payloadType === 1;
const callOf = (p: HepDecoded): string | undefined => /^Call-ID:\s*(\S+)/im.exec(p.payload)?.[1];

describe.skipIf(missing !== undefined)(`HEP capture to a collector${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let registrar: KamailioHandle | undefined;
  let collector: HepCollector | undefined;
  let sw: TestSidecar | undefined;
  let client: UdpSipClient | undefined;

  beforeAll(async () => {
    registrar = await startKamailio({ config: 'registrar' });
    collector = await HepCollector.open();
    sw = await startTestSidecar({
      upstream: { port: registrar.port },
      listen: ['udp'],
      projects: [SUNRISE, LAPSED],
      capture: { hep: { host: '127.0.0.1', port: collector.port, id: 2001, password: 'hep-key', nodeName: 'sipwarden-e2e' } },
    });
    client = await UdpSipClient.open();
  });
  afterAll(async () => {
    await client?.close();
    await sw?.close();
    await collector?.close();
    await registrar?.stop();
  });

  it('a refused REGISTER: the request, the decision (log chunk by Call-ID, with the reason) and the 403, in that order', async () => {
    const c = started(client);
    const hep = started(collector);
    const sidecarPort = Number(started(sw).udp.split(':')[1]);
    const callId = `hep-refused-${Date.now()}@e2e`;
    const answer = await c.register(started(sw).udp, { number: '5001', callId });
    expect(answer?.status).toBe(403);

    const request = await hep.waitFor((p) => isSip(p) && callOf(p) === callId && p.payload.startsWith('REGISTER '), 'captured REGISTER');
    const refusal = await hep.waitFor((p) => isSip(p) && callOf(p) === callId && p.payload.startsWith('SIP/2.0 403 '), 'captured 403');
    const log = await hep.waitFor((p) => p.rcinfo.payloadType === 100 && p.rcinfo.correlation_id === callId, 'decision log chunk');

    expect(request.rcinfo).toMatchObject({ protocol: 17, srcIp: '127.0.0.1', srcPort: c.port, dstIp: '127.0.0.1', dstPort: sidecarPort });
    expect(refusal.rcinfo).toMatchObject({ protocol: 17, srcPort: sidecarPort, dstPort: c.port });
    expect(refusal.payload).toMatch(/^X-Sipwarden-Reason: license-expired\r$/m);
    expect(JSON.parse(log.payload)).toMatchObject({ event: 'decision', callId, method: 'REGISTER', number: '5001', group: 'Lapsed', decision: 'deny', reason: 'license-expired' });
    expect(log.rcinfo).toMatchObject({ srcPort: c.port, dstPort: sidecarPort });
    for (const p of [request, refusal, log]) expect(p.rcinfo).toMatchObject({ captureId: 2001, capturePass: 'hep-key', hepNodeName: 'sipwarden-e2e' });
    const order = [request, log, refusal].map((p) => hep.packets.indexOf(p));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(hep.undecodable).toHaveLength(0);
  });

  it('an allowed REGISTER: both legs of the request and of Kamailio\'s 200, and an allow decision', async () => {
    const c = started(client);
    const hep = started(collector);
    const upstreamPort = started(registrar).port;
    const callId = `hep-allowed-${Date.now()}@e2e`;
    const answer = await c.register(started(sw).udp, { number: '1001', callId });
    expect(answer?.status).toBe(200);

    await hep.waitFor((p) => isSip(p) && callOf(p) === callId && p.payload.startsWith('REGISTER ') && p.rcinfo.dstPort === upstreamPort, 'REGISTER sent to Kamailio');
    const fromUpstream = await hep.waitFor((p) => isSip(p) && callOf(p) === callId && p.payload.startsWith('SIP/2.0 200') && p.rcinfo.srcPort === upstreamPort, '200 from Kamailio');
    expect(fromUpstream.payload).toMatch(/^Server: kamailio/im);
    await hep.waitFor((p) => isSip(p) && callOf(p) === callId && p.payload.startsWith('SIP/2.0 200') && p.rcinfo.dstPort === c.port, '200 sent to the client');
    const log = await hep.waitFor((p) => p.rcinfo.payloadType === 100 && p.rcinfo.correlation_id === callId, 'decision log chunk');
    expect(JSON.parse(log.payload)).toMatchObject({ decision: 'allow', number: '1001', group: 'Sunrise' });
    // The sidecar counted what it sent; nothing was dropped.
    expect(started(sw).sidecar.capture?.stats.dropped).toBe(0);
  });
});
