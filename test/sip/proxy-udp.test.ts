import { afterEach, describe, expect, it } from 'vitest';
import type { GateContext, Verdict } from '../../src/sip/proxy/gate.js';
import { FORWARD } from '../../src/sip/proxy/gate.js';
import type { SipMessage } from '../../src/sip/message/sip-message.js';
import { readAorUser } from '../../src/sip/message/aor.js';
import { branchOf, startHarness, type Harness } from './harness.js';
import { header, headers, invite, register, request, response, startLine } from './messages.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A request the upstream must see next; proves that what was sent before it was not forwarded. */
function marker(n: string): string {
  return request({
    method: 'OPTIONS',
    uri: 'sip:intercom.example',
    headers: [`Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-mark-${n};rport`, 'Max-Forwards: 70', 'From: <sip:m@h>;tag=m', 'To: <sip:x@h>', `Call-ID: marker-${n}`, 'CSeq: 1 OPTIONS'],
  });
}

describe('embedded proxy over UDP', () => {
  it('forwards a REGISTER with its Via, rport, Path and Max-Forwards, and routes the 200 back', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    client.send(register({ callId: 'reg-1', branch: 'z9hG4bK-r1' }), port);
    const up = await upstream.next();
    expect(up.port).toBe(port);
    expect(startLine(up.text)).toBe('REGISTER sip:intercom.example SIP/2.0');
    const vias = headers(up.text, 'Via');
    expect(vias).toHaveLength(2);
    expect(vias[0]).toMatch(new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${port};branch=z9hG4bKsw[0-9a-f]{16}$`));
    expect(vias[1]).toBe(`SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-r1;received=127.0.0.1;rport=${client.port}`);
    expect(header(up.text, 'Max-Forwards')).toBe('69');
    const path = header(up.text, 'Path') ?? '';
    expect(path).toMatch(new RegExp(`^<sip:[A-Za-z0-9_-]{32,}@127\\.0\\.0\\.1:${port};transport=udp;lr>$`));
    // The flow token does not show the client's address (issue 9 item 3).
    const token = /^<sip:([^@]+)@/.exec(path)?.[1] ?? '';
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain(String(client.port));
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('127.0.0.1');
    expect(header(up.text, 'Contact')).toBe('<sip:1001@10.0.0.5:5099>;expires=600');

    upstream.send(response(up.text, 200, 'OK', ['Contact: <sip:1001@10.0.0.5:5099>;expires=600']), port);
    const back = await client.next();
    expect(back.port).toBe(port);
    expect(startLine(back.text)).toBe('SIP/2.0 200 OK');
    expect(headers(back.text, 'Via')).toEqual([vias[1]]);
    expect(header(back.text, 'Call-ID')).toBe('reg-1');
    expect(h.proxy.stats).toMatchObject({ requestsForwarded: 1, responsesForwarded: 1, dropped: 0, handlerErrors: 0 });
  });

  it('removes only its own Via from a response whose Vias share one line, and routes it by the next one', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    client.send(register({ callId: 'reg-multi', branch: 'z9hG4bK-m1' }), port);
    const up = await upstream.next();
    const vias = headers(up.text, 'Via');
    // The upstream writes every Via of the response on one line (RFC 3261 §7.3.1 allows it),
    // with one more hop below the client's.
    const joined = `Via: ${vias[0]}, ${vias[1]}, SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-below`;
    const reply = response(up.text, 200, 'OK').replace(/^Via: .*\r\n(?:Via: .*\r\n)*/m, `${joined}\r\n`);
    upstream.send(reply, port);
    const back = await client.next();
    expect(startLine(back.text)).toBe('SIP/2.0 200 OK');
    expect(headers(back.text, 'Via').join(', ')).toBe(`${vias[1]}, SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-below`);
    expect(h.proxy.stats).toMatchObject({ responsesForwarded: 1, dropped: 0, handlerErrors: 0 });
  });

  it('adds Max-Forwards: 70 when missing and answers 483 at 0 without forwarding', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    client.send(register({ callId: 'mf-none', branch: 'z9hG4bK-m1', maxForwards: null }), port);
    expect(header((await upstream.next()).text, 'Max-Forwards')).toBe('70');

    client.send(register({ callId: 'mf-zero', branch: 'z9hG4bK-m2', maxForwards: 0 }), port);
    const reply = await client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 483 Too Many Hops');
    expect(header(reply.text, 'Call-ID')).toBe('mf-zero');
    client.send(marker('mf'), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('marker-mf');
  });

  it('record-routes an INVITE and loose-routes ACK and BYE both ways', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    const ids = { callId: 'call-1', branch: 'z9hG4bK-i1', fromTag: 'caller' };
    client.send(invite(ids), port);
    const up = await upstream.next();
    const rr = headers(up.text, 'Record-Route');
    expect(rr).toHaveLength(1);
    expect(rr[0]).toMatch(new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${port};transport=udp;lr>$`));
    expect(up.text.endsWith('m=audio 4000 RTP/AVP 0\r\n')).toBe(true);

    upstream.send(response(up.text, 200, 'OK', ['Contact: <sip:1002@127.0.0.1:7777>']), port);
    const ok = await client.next();
    expect(startLine(ok.text)).toBe('SIP/2.0 200 OK');
    expect(headers(ok.text, 'Record-Route')).toEqual(rr);

    // The caller's ACK and BYE carry the route set (RFC 3261 §12.2.1.1): our Route is removed.
    const inDialog = { ...ids, toTag: 'uas1' };
    client.send(invite({ ...inDialog, branch: 'z9hG4bK-ack' }, [`Route: ${rr[0]}`], 'ACK'), port);
    const ack = await upstream.next();
    expect(startLine(ack.text)).toBe('ACK sip:1002@intercom.example SIP/2.0');
    expect(headers(ack.text, 'Route')).toEqual([]);
    client.send(invite({ ...inDialog, branch: 'z9hG4bK-bye', cseq: 2 }, [`Route: ${rr[0]}`], 'BYE'), port);
    const bye = await upstream.next();
    expect(startLine(bye.text)).toBe('BYE sip:1002@intercom.example SIP/2.0');
    expect(headers(bye.text, 'Route')).toEqual([]);

    // The callee's BYE comes from the upstream, addressed to a Contact nobody can reach: the
    // flow token in our Record-Route sends it to the caller's flow instead.
    const calleeBye = request({
      method: 'BYE',
      uri: 'sip:1001@10.0.0.5:5099',
      headers: [
        `Via: SIP/2.0/UDP 127.0.0.1:${upstream.port};branch=z9hG4bK-cbye`,
        `Route: ${rr[0]}`,
        'Max-Forwards: 70',
        'From: <sip:1002@intercom.example>;tag=uas1',
        'To: "Door" <sip:1001@intercom.example>;tag=caller',
        'Call-ID: call-1',
        'CSeq: 1 BYE',
      ],
    });
    upstream.send(calleeBye, port);
    const atCaller = await client.next();
    expect(startLine(atCaller.text)).toBe('BYE sip:1001@10.0.0.5:5099 SIP/2.0');
    expect(headers(atCaller.text, 'Route')).toEqual([]);
    expect(headers(atCaller.text, 'Via')).toHaveLength(2);

    client.send(response(atCaller.text, 200, 'OK'), port);
    const byeOk = await upstream.next();
    expect(startLine(byeOk.text)).toBe('SIP/2.0 200 OK');
    expect(headers(byeOk.text, 'Via')).toEqual([`SIP/2.0/UDP 127.0.0.1:${upstream.port};branch=z9hG4bK-cbye`]);
  });

  it('gives a retransmission, the CANCEL and the non-2xx ACK the INVITE branch, and a 2xx ACK a new one', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    const ids = { callId: 'call-c', branch: 'z9hG4bK-c1' };
    client.send(invite(ids), port);
    const first = branchOf(headers((await upstream.next()).text, 'Via')[0]);
    client.send(invite(ids), port);
    const again = branchOf(headers((await upstream.next()).text, 'Via')[0]);
    client.send(invite(ids, [], 'CANCEL'), port);
    const cancel = await upstream.next();
    expect(startLine(cancel.text)).toMatch(/^CANCEL /);
    client.send(invite({ ...ids, toTag: 'uas-487' }, [], 'ACK'), port);
    const ack487 = await upstream.next();
    client.send(invite({ ...ids, branch: 'z9hG4bK-c2', toTag: 'uas-200' }, [], 'ACK'), port);
    const ack200 = await upstream.next();
    expect(first).toMatch(/^z9hG4bKsw/);
    expect(again).toBe(first);
    expect(branchOf(headers(cancel.text, 'Via')[0])).toBe(first);
    expect(branchOf(headers(ack487.text, 'Via')[0])).toBe(first);
    expect(branchOf(headers(ack200.text, 'Via')[0])).not.toBe(first);
  });

  it('answers with what the gate replies, absorbs the ACK, repeats the reply and 200s a CANCEL', async () => {
    const calls: Array<{ method: string; number: string | null; context: GateContext }> = [];
    const gate = (req: SipMessage, context: GateContext): Verdict => {
      calls.push({ method: req.method, number: readAorUser(req.from?.uri ?? '') || null, context });
      if (req.method === 'INVITE' && readAorUser(req.from?.uri ?? '') === '1001') {
        return {
          action: 'reply',
          status: 403,
          reason: 'Forbidden',
          headers: [['Warning', '399 127.0.0.1 "License expired"'], ['X-Sipwarden-Reason', 'license-expired']],
        };
      }
      return FORWARD;
    };
    h = await startHarness({ gate });
    const { client, upstream, port } = h;
    const ids = { callId: 'call-g', branch: 'z9hG4bK-g1', fromTag: 'gf' };
    client.send(invite(ids), port);
    const reply = await client.next();
    expect(startLine(reply.text)).toBe('SIP/2.0 403 Forbidden');
    expect(header(reply.text, 'Warning')).toBe('399 127.0.0.1 "License expired"');
    expect(header(reply.text, 'X-Sipwarden-Reason')).toBe('license-expired');
    expect(headers(reply.text, 'Via')).toEqual([`SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-g1;received=127.0.0.1;rport=${client.port}`]);
    const toTag = /;tag=([^;]+)$/.exec(header(reply.text, 'To') ?? '')?.[1];
    expect(toTag).toMatch(/^sw[0-9a-f]{16}$/);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.context).toEqual({ transport: 'udp', source: { transport: 'udp', address: '127.0.0.1', port: client.port }, direction: 'from-client', clientFlow: null });

    client.send(invite(ids), port);
    expect((await client.next()).text).toBe(reply.text);
    expect(calls).toHaveLength(1);

    client.send(invite({ ...ids, toTag }, [], 'ACK'), port);
    client.send(invite(ids, [], 'CANCEL'), port);
    const cancelOk = await client.next();
    expect(startLine(cancelOk.text)).toBe('SIP/2.0 200 OK');
    expect(header(cancelOk.text, 'CSeq')).toBe('1 CANCEL');
    client.send(marker('gate'), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('marker-gate');
    expect(h.proxy.stats.acksAbsorbed).toBe(1);

    // Other callers, REGISTERs and in-dialog requests pass; only REGISTER and initial INVITE are asked.
    client.send(register({ callId: 'reg-g', branch: 'z9hG4bK-g2' }), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('reg-g');
    client.send(invite({ ...ids, callId: 'call-g2', branch: 'z9hG4bK-g3', toTag: 'x' }, [], 'BYE'), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('call-g2');
    expect(calls.map((c) => c.method)).toEqual(['INVITE', 'REGISTER']);
  });

  it('waits for a gate that answers with a Promise', async () => {
    h = await startHarness({ gate: () => new Promise<Verdict>((resolve) => setImmediate(() => resolve(FORWARD))) });
    h.client.send(register({ callId: 'async-1', branch: 'z9hG4bK-a1' }), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('async-1');
    expect(h.proxy.stats.gateCalls).toBe(1);
  });

  it('drops a request whose gate throws, and goes on serving', async () => {
    h = await startHarness({
      gate: (req) => {
        if (req.callId === 'boom') throw new Error('gate bug');
        return FORWARD;
      },
    });
    h.client.send(register({ callId: 'boom', branch: 'z9hG4bK-b1' }), h.port);
    h.client.send(register({ callId: 'after-boom', branch: 'z9hG4bK-b2' }), h.port);
    expect(header((await h.upstream.next()).text, 'Call-ID')).toBe('after-boom');
    expect(h.proxy.stats).toMatchObject({ dropped: 1, gateCalls: 2, handlerErrors: 0, requestsForwarded: 1 });
  });

  it('drops garbage, answers 400 to broken requests, drops broken responses, and keeps serving', async () => {
    h = await startHarness();
    const { client, upstream, port } = h;
    client.send(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a]), port);
    client.send('\r\n\r\n', port);
    const noCallId = register({ callId: 'x', branch: 'z9hG4bK-bad1' }).replace('Call-ID: x\r\n', '');
    client.send(noCallId, port);
    const r1 = await client.next();
    expect(startLine(r1.text)).toBe('SIP/2.0 400 Bad Request');
    expect(header(r1.text, 'Warning')).toBe('399 127.0.0.1 "missing Call-ID"');
    const badLength = register({ callId: 'bad-cl', branch: 'z9hG4bK-bad2' }).replace('Content-Length: 0', 'Content-Length: 99');
    client.send(badLength, port);
    const r2 = await client.next();
    expect(startLine(r2.text)).toBe('SIP/2.0 400 Bad Request');
    expect(header(r2.text, 'Call-ID')).toBe('bad-cl');
    // A response nobody can use: not our Via.
    upstream.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-x\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n', port);
    upstream.send('SIP/2.0 200 OK\r\nCall-ID: broken\r\n\r\n', port);

    client.send(register({ callId: 'still-alive', branch: 'z9hG4bK-ok' }), port);
    expect(header((await upstream.next()).text, 'Call-ID')).toBe('still-alive');
    expect(h.proxy.stats).toMatchObject({ badRequests: 2, handlerErrors: 0, requestsForwarded: 1 });
    expect(h.proxy.stats.dropped).toBe(4);
    expect(client.pending).toBe(0);
  });

  it('sends a client request to the upstream even when its Route names another host (no open relay)', async () => {
    h = await startHarness();
    const elsewhere = 'sip:127.0.0.9:5999;lr';
    h.client.send(invite({ callId: 'relay', branch: 'z9hG4bK-relay' }, [`Route: <sip:127.0.0.1:${h.port};lr>, <${elsewhere}>`], 'MESSAGE'), h.port);
    const up = await h.upstream.next();
    expect(header(up.text, 'Call-ID')).toBe('relay');
    // Our own Route value is consumed; the foreign one is left for the upstream to decide on.
    expect(headers(up.text, 'Route')).toEqual([`<${elsewhere}>`]);
    expect(h.proxy.stats).toMatchObject({ requestsForwarded: 1, dropped: 0 });
  });

  it('forwards a MESSAGE like any other request, without Record-Route', async () => {
    h = await startHarness();
    h.client.send(invite({ callId: 'msg', branch: 'z9hG4bK-msg' }, [], 'MESSAGE'), h.port);
    const up = await h.upstream.next();
    expect(startLine(up.text)).toBe('MESSAGE sip:1002@intercom.example SIP/2.0');
    expect(headers(up.text, 'Record-Route')).toEqual([]);
  });
});
