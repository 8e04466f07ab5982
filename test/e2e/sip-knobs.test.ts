import { afterEach, describe, expect, it } from 'vitest';
import { scrape } from '../support/prom-text.js';
import { header, headers, invite, register, request, startLine } from '../sip/messages.js';
import { UdpPeer } from '../sip/peers.js';
import { startTestSidecar, type TestSidecar, type TestSidecarOptions } from './sidecar-fixture.js';

/*
 * Issue 11 item 7: the knobs Kamailio users look for, set in the sidecar's configuration (parsed by
 * the real schema, started by startSidecar), with real UDP peers on both sides, and each limit
 * counted in the /metrics scrape.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  readonly sw: TestSidecar;
  readonly client: UdpPeer;
  readonly upstream: UdpPeer;
  readonly port: number;
}

async function rig(sip: TestSidecarOptions['sip']): Promise<Rig> {
  const client = await UdpPeer.open('client');
  cleanups.push(() => client.close());
  const upstream = await UdpPeer.open('upstream');
  cleanups.push(() => upstream.close());
  // No upstream ping: the upstream peer should see only what the clients send.
  const sw = await startTestSidecar({ upstream: { port: upstream.port }, sip, health: { upstreamPing: null }, listen: ['udp'] });
  cleanups.push(() => sw.close());
  return { sw, client, upstream, port: Number(sw.udp.split(':')[1]) };
}

/** A MESSAGE/SUBSCRIBE-like initial request from 2001 to 1002. */
function initial(method: string, callId: string): string {
  return request({
    method,
    uri: 'sip:1002@intercom.example',
    headers: [
      `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${callId};rport`,
      'Max-Forwards: 70',
      `From: <sip:2001@intercom.example>;tag=f-${callId}`,
      'To: <sip:1002@intercom.example>',
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Contact: <sip:2001@10.0.0.5:5099>',
      ...(method === 'SUBSCRIBE' ? ['Event: presence', 'Expires: 600'] : []),
    ],
  });
}

describe('sip.maxMessageSize', () => {
  it('answers 513 to a request over the limit, forwards one under it, and counts it', async () => {
    const { sw, client, upstream, port } = await rig({ maxMessageSize: 2000 });
    const base = register({ callId: 'big', branch: 'z9hG4bK-big' }, ['X-Pad: ']);
    client.send(base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(2100 - Buffer.byteLength(base))}`), port);
    const reply = await client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 513 Message Too Large');
    expect(header(reply.text, 'Call-ID')).toBe('big');
    client.send(register({ callId: 'small', branch: 'z9hG4bK-small' }), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('small');
    expect(upstream.pending).toBe(0);
    const m = await scrape(sw.adminUrl);
    expect(m.value('sipwarden_sip_messages_too_large_total', { stage: 'received' })).toBe(1);
  });

  it('rejects a limit below 1,500 bytes or above 65,535 at start-up', async () => {
    await expect(rig({ maxMessageSize: 1000 })).rejects.toThrow(/maxMessageSize/);
    await expect(rig({ maxMessageSize: 70_000 })).rejects.toThrow(/maxMessageSize/);
  });
});

describe('sip.maxForwards', () => {
  it('adds `initial` when absent, caps larger values at `limit`, and counts each cap', async () => {
    const { sw, client, upstream, port } = await rig({ maxForwards: { initial: 20, limit: 10 } });
    const mfOf = async (text: string): Promise<string | undefined> => {
      client.send(text, port);
      return header((await upstream.next()).text, 'Max-Forwards');
    };
    expect(await mfOf(register({ callId: 'none', branch: 'z9hG4bK-none', maxForwards: null }))).toBe('20');
    expect(await mfOf(register({ callId: 'high', branch: 'z9hG4bK-high', maxForwards: 70 }))).toBe('10');
    expect(await mfOf(register({ callId: 'low', branch: 'z9hG4bK-low', maxForwards: 5 }))).toBe('4');
    const m = await scrape(sw.adminUrl);
    expect(m.value('sipwarden_sip_max_forwards_capped_total')).toBe(1);
  });

  it('answers 483 to Max-Forwards 0 and counts it', async () => {
    const { sw, client, port } = await rig({});
    client.send(register({ callId: 'zero', branch: 'z9hG4bK-zero', maxForwards: 0 }), port);
    expect(startLine((await client.next()).text)).toBe('SIP/2.0 483 Too Many Hops');
    expect((await scrape(sw.adminUrl)).value('sipwarden_sip_too_many_hops_total')).toBe(1);
  });
});

describe('sip.forceRport', () => {
  /** The Via the sidecar stamped on the client's hop, as the upstream sees it (the second Via). */
  async function clientVia(forceRport: boolean): Promise<string> {
    const { client, upstream, port } = await rig({ forceRport });
    // A client that does not ask for rport (RFC 3581 §3), sending from another port than its sent-by.
    const text = register({ callId: `force-${String(forceRport)}`, branch: `z9hG4bK-force-${String(forceRport)}` }).replace(';rport', '');
    client.send(text, port);
    return headers((await upstream.next()).text, 'Via')[1] ?? '';
  }

  it('fills in rport for a UDP client that did not ask, when on', async () => {
    const via = await clientVia(true);
    expect(via).toMatch(/;rport=\d+/);
  });

  it('leaves rport out for that client by default (RFC 3581: only when asked)', async () => {
    const via = await clientVia(false);
    expect(via).not.toMatch(/;rport/);
  });
});

describe('sip.recordRouteMethods', () => {
  async function recordRouted(methods: readonly string[] | undefined, method: string): Promise<boolean> {
    const { client, upstream, port } = await rig(methods === undefined ? {} : { recordRouteMethods: [...methods] });
    const callId = `rr-${method}-${methods?.join('-') ?? 'default'}`;
    client.send(method === 'INVITE' ? invite({ callId, branch: `z9hG4bK-${callId}` }) : initial(method, callId), port);
    return headers((await upstream.next()).text, 'Record-Route').length > 0;
  }

  it('defaults to INVITE, SUBSCRIBE and REFER', async () => {
    expect(await recordRouted(undefined, 'SUBSCRIBE')).toBe(true);
    expect(await recordRouted(undefined, 'MESSAGE')).toBe(false);
  });

  it('follows the configured list (method names in any case)', async () => {
    expect(await recordRouted(['invite', 'MESSAGE'], 'MESSAGE')).toBe(true);
    expect(await recordRouted(['INVITE'], 'SUBSCRIBE')).toBe(false);
    expect(await recordRouted(['INVITE'], 'INVITE')).toBe(true);
  });

  it('refuses REGISTER, ACK and CANCEL at start-up', async () => {
    await expect(rig({ recordRouteMethods: ['INVITE', 'REGISTER'] })).rejects.toThrow(/Record-Route/);
  });
});
