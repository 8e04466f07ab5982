import { describe, expect, it } from 'vitest';
import { buildForwardedRequest, proxyUri } from '../../src/sip/proxy/forward-request.js';
import { HeaderId } from '../../src/sip/message/header-names.js';
import { LocalAddresses } from '../../src/sip/proxy/local-addresses.js';
import { buildLocalReply } from '../../src/sip/message/local-reply.js';
import { MessageEditor } from '../../src/sip/message/message-editor.js';
import { parseMessage } from '../../src/sip/message/parse-message.js';
import { removalRanges } from '../../src/sip/message/remove-values.js';
import { planRoute, type RoutePlan } from '../../src/sip/proxy/route-plan.js';
import type { SipMessage } from '../../src/sip/message/sip-message.js';
import { stampVia } from '../../src/sip/message/via.js';
import { header, headerLines, headers, invite, register, request, startLine } from './messages.js';

function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.problem);
  return r.message;
}

const noRoute: RoutePlan = { removals: [], requestUri: null, tokens: [], nextRoute: null };
const ownVia = { transport: 'udp' as const, host: '192.0.2.10', port: 5060, branch: 'z9hG4bKswabc' };
const local = new LocalAddresses([{ host: '192.0.2.10', port: 5060 }]);

describe('MessageEditor', () => {
  it('applies inserts, replacements and removals against the original offsets', () => {
    const src = Buffer.from('0123456789');
    const out = new MessageEditor(src).insert(10, 'Z').replace(2, 4, 'ab').remove(6, 8).insert(0, 'A').insert(0, 'B').toBuffer();
    expect(out.toString()).toBe('AB01ab4589Z');
  });

  it('refuses overlapping edits', () => {
    expect(() => new MessageEditor(Buffer.from('0123456789')).remove(2, 6).remove(4, 8).toBuffer()).toThrow(RangeError);
  });

  it('copies bytes it does not touch exactly, UTF-8 included', () => {
    const src = Buffer.from('Subject: Tür öffnen\r\nX: 1\r\n');
    const out = new MessageEditor(src).replace(src.indexOf('1'), src.indexOf('1') + 1, '2').toBuffer();
    expect(out.toString('utf8')).toBe('Subject: Tür öffnen\r\nX: 2\r\n');
  });
});

describe('removalRanges', () => {
  const m = parse(
    request({
      method: 'BYE',
      uri: 'sip:x@h',
      headers: ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'Route: <sip:a;lr>, <sip:b;lr>, <sip:c;lr>', 'Route: <sip:d;lr>', 'From: <sip:a@h>;tag=1', 'To: <sip:x@h>;tag=2', 'Call-ID: c', 'CSeq: 2 BYE'],
    }),
  );
  const cut = (removed: number[]): string[] => {
    const e = new MessageEditor(m.buf);
    for (const [s, t] of removalRanges(m.values(HeaderId.ROUTE), new Set(removed))) e.remove(s, t);
    return headers(e.toBuffer().toString(), 'Route');
  };

  it('removes leading values with their comma', () => expect(cut([0])).toEqual(['<sip:b;lr>, <sip:c;lr>', '<sip:d;lr>']));
  it('removes a whole line when all its values go', () => expect(cut([0, 1, 2])).toEqual(['<sip:d;lr>']));
  it('removes a middle and a last value', () => expect(cut([1, 3])).toEqual(['<sip:a;lr>, <sip:c;lr>']));
  it('removes trailing values of a line', () => expect(cut([2])).toEqual(['<sip:a;lr>, <sip:b;lr>', '<sip:d;lr>']));
});

describe('stampVia (RFC 3261 §18.2.1, RFC 3581)', () => {
  const via = (text: string) => {
    const m = parse(register({ callId: 'c', branch: 'z9hG4bK1' }).replace(/^Via: .*$/m, `Via: ${text}`));
    const top = m.topVia;
    if (top === null) throw new Error('no via');
    return top;
  };

  it('fills in rport and received when rport is asked for', () => {
    expect(stampVia(via('SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK1;rport'), '203.0.113.9', 40123, false)).toBe(
      'SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK1;received=203.0.113.9;rport=40123',
    );
  });

  it('adds only received when the source differs and rport is not asked for', () => {
    expect(stampVia(via('SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK1'), '203.0.113.9', 40123, false)).toBe(
      'SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK1;received=203.0.113.9',
    );
  });

  it('changes nothing when the packet came from sent-by and rport is not asked for', () => {
    expect(stampVia(via('SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK1'), '10.0.0.5', 5099, false)).toBeNull();
  });

  it('replaces a received or rport that a client forged', () => {
    expect(stampVia(via('SIP/2.0/TCP h.invalid;received=1.1.1.1;rport=9;branch=z9hG4bK1'), '203.0.113.9', 40123, true)).toBe(
      'SIP/2.0/TCP h.invalid;branch=z9hG4bK1;received=203.0.113.9;rport=40123',
    );
  });
});

describe('buildForwardedRequest', () => {
  it('adds our Via on top, decrements Max-Forwards and copies every other header byte for byte', () => {
    const text = register({ callId: 'fw1', branch: 'z9hG4bK1', maxForwards: 7 }, ['X-Custom:   spaced  value', 'User-Agent: Door/1.0']);
    const m = parse(text);
    const out = buildForwardedRequest(m, { plan: noRoute, via: ownVia, stampedTopVia: null, recordRoute: [], path: null }).toString();
    expect(startLine(out)).toBe('REGISTER sip:intercom.example SIP/2.0');
    expect(headers(out, 'Via')).toEqual(['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKswabc', 'SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;rport']);
    expect(header(out, 'Max-Forwards')).toBe('6');
    const untouched = (s: string) => headerLines(s).filter((l) => !/^(Via|Max-Forwards):/.test(l));
    expect(untouched(out)).toEqual(untouched(text));
    expect(out.endsWith('\r\n\r\n')).toBe(true);
  });

  it('adds Max-Forwards: 70 when absent (RFC 3261 §16.6 step 3) and Content-Length when absent', () => {
    const text = request({
      method: 'MESSAGE',
      uri: 'sip:1002@h',
      headers: ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: <sip:a@h>;tag=1', 'To: <sip:x@h>', 'Call-ID: c', 'CSeq: 1 MESSAGE'],
      body: 'hello',
      noContentLength: true,
    });
    const out = buildForwardedRequest(parse(text), { plan: noRoute, via: ownVia, stampedTopVia: null, recordRoute: [], path: null }).toString();
    expect(header(out, 'Max-Forwards')).toBe('70');
    expect(header(out, 'Content-Length')).toBe('5');
    expect(out.endsWith('\r\n\r\nhello')).toBe(true);
    expect(parseMessage(Buffer.from(out), { stream: true }).ok).toBe(true);
  });

  it('puts Record-Route above existing ones, in the order given, and Path', () => {
    const text = invite({ callId: 'rr', branch: 'z9hG4bK1' }, ['Record-Route: <sip:edge.example;lr>']);
    const rr = [proxyUri('192.0.2.10', 5060, 'udp', null), proxyUri('192.0.2.10', 5080, 'ws', 'tok.en')];
    const out = buildForwardedRequest(parse(text), { plan: noRoute, via: ownVia, stampedTopVia: null, recordRoute: rr, path: '<sip:p@192.0.2.10;lr>' }).toString();
    expect(headers(out, 'Record-Route')).toEqual([
      '<sip:192.0.2.10:5060;transport=udp;lr>',
      '<sip:tok.en@192.0.2.10:5080;transport=ws;lr>',
      '<sip:edge.example;lr>',
    ]);
    expect(headers(out, 'Path')).toEqual(['<sip:p@192.0.2.10;lr>']);
    expect(out.endsWith('m=audio 4000 RTP/AVP 0\r\n')).toBe(true);
  });

  it('removes our top Route values (RFC 3261 §16.4) and stamps the incoming Via', () => {
    const text = invite({ callId: 'lr', branch: 'z9hG4bK1', toTag: 't1' }, [
      'Route: <sip:192.0.2.10:5060;transport=udp;lr>, <sip:192.0.2.10;lr>',
      'Route: <sip:kamailio.example;lr>',
    ], 'BYE');
    const m = parse(text);
    const plan = planRoute(m, (u) => local.has(u.host, u.port ?? 5060));
    expect(plan.nextRoute).toBe('sip:kamailio.example;lr');
    const stamped = stampVia(m.topVia!, '203.0.113.9', 40000, false);
    const out = buildForwardedRequest(m, { plan, via: ownVia, stampedTopVia: stamped, recordRoute: [], path: null }).toString();
    expect(headers(out, 'Route')).toEqual(['<sip:kamailio.example;lr>']);
    expect(headers(out, 'Via')[1]).toBe('SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;received=203.0.113.9;rport=40000');
  });

  it('restores the Request-URI after a strict router (RFC 3261 §16.4)', () => {
    const text = invite({ callId: 'sr', branch: 'z9hG4bK1', toTag: 't1' }, ['Route: <sip:next.example;lr>, <sip:1002@10.0.0.9:5099>'], 'BYE').replace(
      'BYE sip:1002@intercom.example SIP/2.0',
      'BYE sip:192.0.2.10:5060;lr SIP/2.0',
    );
    const m = parse(text);
    const plan = planRoute(m, (u) => local.has(u.host, u.port ?? 5060));
    expect(plan.requestUri).toBe('sip:1002@10.0.0.9:5099');
    const out = buildForwardedRequest(m, { plan, via: ownVia, stampedTopVia: null, recordRoute: [], path: null }).toString();
    expect(startLine(out)).toBe('BYE sip:1002@10.0.0.9:5099 SIP/2.0');
    expect(headers(out, 'Route')).toEqual(['<sip:next.example;lr>']);
  });
});

describe('buildLocalReply (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, Call-ID, CSeq, adds a To tag and the extra headers, with no body', () => {
    const text = invite({ callId: 'lr1', branch: 'z9hG4bK1' }).replace('Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;rport', 'Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;rport\r\nVia: SIP/2.0/UDP edge;branch=z9hG4bK0');
    const m = parse(text);
    const out = buildLocalReply(m, {
      status: 403,
      reason: 'Forbidden',
      toTag: 'swtag',
      topVia: 'SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;received=127.0.0.1;rport=40000',
      headers: [['Warning', '399 h "Lizenz abgelaufen\r\nInjected: yes"'], ['X-Sipwarden-Reason', 'license-expired']],
    }).toString('utf8');
    expect(startLine(out)).toBe('SIP/2.0 403 Forbidden');
    expect(headers(out, 'Via')).toEqual(['SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1;received=127.0.0.1;rport=40000', 'SIP/2.0/UDP edge;branch=z9hG4bK0']);
    expect(header(out, 'To')).toBe('<sip:1002@intercom.example>;tag=swtag');
    expect(header(out, 'From')).toBe('"Door" <sip:1001@intercom.example>;tag=ft1');
    expect(header(out, 'Call-ID')).toBe('lr1');
    expect(header(out, 'CSeq')).toBe('1 INVITE');
    expect(header(out, 'Warning')).toBe('399 h "Lizenz abgelaufen Injected: yes"');
    expect(header(out, 'Injected')).toBeUndefined();
    expect(header(out, 'X-Sipwarden-Reason')).toBe('license-expired');
    expect(header(out, 'Content-Length')).toBe('0');
    expect(header(out, 'Contact')).toBeUndefined();
    expect(out.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });
});
