import { describe, expect, it } from 'vitest';
import { HeaderId } from '../../src/sip/message/header-names.js';
import { parseMessage } from '../../src/sip/message/parse-message.js';
import type { SipMessage } from '../../src/sip/message/sip-message.js';
import { AMBIGUOUS, digestUser } from '../../src/sip/message/digest.js';
import { register, request } from './messages.js';

function ok(text: string | Buffer, stream = false): SipMessage {
  const result = parseMessage(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { stream });
  if (!result.ok) throw new Error(`expected a valid message, got: ${result.problem}`);
  return result.message;
}

function problemOf(text: string, stream = false): { problem: string; hasMessage: boolean } {
  const result = parseMessage(Buffer.from(text, 'utf8'), { stream });
  if (result.ok) throw new Error('expected an invalid message');
  return { problem: result.problem, hasMessage: result.message !== null };
}

const compact = [
  'REGISTER sip:intercom.example SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.5:5099;branch=z9hG4bK-a1;rport',
  'i: call-compact@10.0.0.5',
  'f: <sip:1001@intercom.example>;tag=abc',
  't: <sip:1001@intercom.example>',
  'CSeq: 7 REGISTER',
  'm: <sip:1001@10.0.0.5:5099>;expires=300',
  'l: 0',
  '',
  '',
].join('\r\n');

describe('parseMessage: start line and headers', () => {
  it('reads a request with compact header names', () => {
    const m = ok(compact);
    expect(m.isRequest).toBe(true);
    expect(m.method).toBe('REGISTER');
    expect(m.requestUri).toBe('sip:intercom.example');
    expect(m.callId).toBe('call-compact@10.0.0.5');
    expect(m.cseq).toEqual({ seq: 7, method: 'REGISTER' });
    expect(m.fromTag).toBe('abc');
    expect(m.toTag).toBeNull();
    expect(m.topVia?.branch).toBe('z9hG4bK-a1');
    expect(m.contacts.bindings.map((b) => [b.uri, b.expires])).toEqual([['sip:1001@10.0.0.5:5099', 300]]);
    expect(m.contentLength).toBe(0);
    expect(m.header('Call-ID')).toEqual(['call-compact@10.0.0.5']);
    expect(m.header('i')).toEqual(['call-compact@10.0.0.5']);
  });

  it('matches header names case-insensitively', () => {
    const text = compact.replace('CSeq: 7', 'cSEQ: 7').replace('i: call', 'CALL-id: call').replace('\r\nl: 0', '\r\nCONTENT-LENGTH : 0');
    const m = ok(text);
    expect(m.callId).toBe('call-compact@10.0.0.5');
    expect(m.cseq?.seq).toBe(7);
    expect(m.contentLength).toBe(0);
  });

  it('reads a response', () => {
    const m = ok('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
    expect(m.isRequest).toBe(false);
    expect(m.status).toBe(180);
    expect(m.reason).toBe('Ringing');
    expect(m.cseq?.method).toBe('INVITE');
  });

  it('accepts bare LF line ends and leading CRLFs', () => {
    const m = ok(`\r\n\r\n${compact.replace(/\r\n/g, '\n')}`);
    expect(m.callId).toBe('call-compact@10.0.0.5');
    expect(m.contacts.bindings).toHaveLength(1);
  });

  it('unfolds folded header lines (RFC 3261 §7.3.1) without moving any offset', () => {
    const text = compact.replace('CSeq: 7 REGISTER', 'Subject: a\r\n  folded\r\n\tsubject\r\nCSeq: 7 REGISTER');
    const input = Buffer.from(text);
    const m = ok(input);
    // Each CRLF of a fold becomes two spaces, which is equivalent to the single SP §7.3.1 asks for.
    expect(m.header('subject')).toEqual(['a    folded  \tsubject']);
    expect(m.cseq?.seq).toBe(7);
    expect(m.buf.length).toBe(input.length);
    expect(input.toString()).toBe(text);
  });

  it('splits several Via values on one line and across lines, top first', () => {
    const text = request({
      method: 'OPTIONS',
      uri: 'sip:x@h',
      headers: [
        'Via: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK2;received=192.0.2.1',
        'v: SIP/2.0/WS abc.invalid;branch=z9hG4bK3',
        'From: <sip:a@h>;tag=1',
        'To: <sip:x@h>',
        'Call-ID: c1',
        'CSeq: 1 OPTIONS',
      ],
    });
    const m = ok(text);
    expect(m.vias().map((v) => [v.transport, v.host, v.port, v.branch])).toEqual([
      ['UDP', 'a.example', 5060, 'z9hG4bK1'],
      ['TCP', '2001:db8::1', 5070, 'z9hG4bK2'],
      ['WS', 'abc.invalid', null, 'z9hG4bK3'],
    ]);
    expect(m.vias()[1]?.received).toBe('192.0.2.1');
    expect(m.topVia?.text).toBe('SIP/2.0/UDP a.example:5060;branch=z9hG4bK1');
    expect(text.slice(m.topVia?.start, m.topVia?.end)).toBe('SIP/2.0/UDP a.example:5060;branch=z9hG4bK1');
    expect(m.count(HeaderId.VIA)).toBe(2);
  });

  it('reads Route and Record-Route lists with commas inside quotes and brackets kept together', () => {
    const m = ok(
      request({
        method: 'BYE',
        uri: 'sip:x@h',
        headers: [
          'Via: SIP/2.0/UDP a;branch=z9hG4bK1',
          'Route: <sip:p1.example;lr>, "A, B" <sip:p2.example;lr>',
          'Route: <sip:p3.example;lr>',
          'From: <sip:a@h>;tag=1',
          'To: <sip:x@h>;tag=2',
          'Call-ID: c1',
          'CSeq: 2 BYE',
        ],
      }),
    );
    expect(m.values(HeaderId.ROUTE).map((v) => v.text)).toEqual(['<sip:p1.example;lr>', '"A, B" <sip:p2.example;lr>', '<sip:p3.example;lr>']);
  });
});

describe('parseMessage: Contact, Expires and credentials', () => {
  const withContact = (contact: string, extra: string[] = []): SipMessage =>
    ok(register({ callId: 'c', branch: 'z9hG4bK1' }).replace('Contact: <sip:1001@10.0.0.5:5099>;expires=600', `Contact: ${contact}`).replace('Expires: 600\r\n', extra.map((e) => `${e}\r\n`).join('')));

  it('reads RFC 8599 push parameters from the Contact URI and the quoted +sip.instance', () => {
    const m = withContact('<sip:1001@198.51.100.7:40000;transport=tcp;pn-provider=fcm;pn-param=proj-1;pn-prid=tok%3Aen>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";expires=3600');
    const b = m.contacts.bindings[0];
    expect(b?.push).toEqual({ provider: 'fcm', prid: 'tok%3Aen', param: 'proj-1' });
    expect(b?.instance).toBe('urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF');
    expect(b?.expires).toBe(3600);
    expect(m.isDeregister).toBe(false);
  });

  it('reads push parameters given as Contact header parameters too', () => {
    const m = withContact('<sip:1001@198.51.100.7:40000>;pn-provider=apns;pn-prid="abc";pn-param=TEAM.com.example.voip');
    expect(m.contacts.bindings[0]?.push).toEqual({ provider: 'apns', prid: 'abc', param: 'TEAM.com.example.voip' });
    expect(m.contacts.bindings[0]?.instance).toBeNull();
  });

  it('has no push parameters for a plain device', () => {
    expect(withContact('<sip:1001@10.0.0.5>').contacts.bindings[0]?.push).toBeNull();
  });

  it('recognises de-registrations: Contact: *, Expires: 0, every contact expires=0', () => {
    expect(withContact('*', ['Expires: 0']).isDeregister).toBe(true);
    expect(withContact('*', ['Expires: 0']).contacts.star).toBe(true);
    expect(withContact('<sip:1001@10.0.0.5>', ['Expires: 0']).isDeregister).toBe(true);
    expect(withContact('<sip:1001@10.0.0.5>;expires=0, <sip:1001@10.0.0.6>;expires=0').isDeregister).toBe(true);
    expect(withContact('<sip:1001@10.0.0.5>;expires=0, <sip:1001@10.0.0.6>;expires=60').isDeregister).toBe(false);
    expect(withContact('<sip:1001@10.0.0.5>;expires=60', ['Expires: 0']).isDeregister).toBe(false);
    expect(withContact('<sip:1001@10.0.0.5>', ['Expires: 600']).expires).toBe(600);
  });

  it('never takes a REGISTER the registrar would bind for a de-registration', () => {
    const binds = (contact: string, extra: string[] = ['Expires: 0']) => withContact(contact, extra).isDeregister;
    // The registrar reads these expires values as its default expiry, or as a non-zero one.
    for (const expires of ['abc', '"3600"', '3600x', '-1', '', '"0"', '+0', '0x', '00000000000']) {
      expect(binds(`<sip:1001@10.0.0.5>;expires=${expires}`), `expires=${expires}`).toBe(false);
    }
    expect(binds('<sip:1001@10.0.0.5>;expires')).toBe(false);
    // Repeated: Kamailio takes the last.
    expect(binds('<sip:1001@10.0.0.5>;expires=0;expires=3600')).toBe(false);
    expect(binds('<sip:1001@10.0.0.5>;expires=0;EXPIRES=3600')).toBe(false);
    // An unreadable Contact beside a removed one: its binding is unknown.
    expect(binds('<sip:1001@10.0.0.5>;expires=0, garbage')).toBe(false);
    expect(binds("<sip:1001@10.0.0.5>;expires=0;x='a, <sip:1001@10.0.0.6>;expires=0'")).toBe(false);
    // Expires header malformed, over 10 digits, or repeated: its 0 is not certain.
    for (const header of [['Expires: 0 junk'], ['Expires: 00000000000'], ['Expires: 0', 'Expires: 3600'], ['Expires: 0, 3600']]) {
      expect(binds('<sip:1001@10.0.0.5>', header), header.join(' / ')).toBe(false);
      expect(binds('*', header), `* with ${header.join(' / ')}`).toBe(false);
    }
    // Contact: * without Expires: 0, or mixed with a binding.
    expect(binds('*', [])).toBe(false);
    expect(binds('*', ['Expires: 3600'])).toBe(false);
    expect(binds('*, <sip:1001@10.0.0.5>;expires=0')).toBe(false);
    // Still removals: well-formed zeros, the parameter name in any case.
    expect(binds('<sip:1001@10.0.0.5>;EXPIRES=0')).toBe(true);
    expect(binds('<sip:1001@10.0.0.5>;expires=0000000000', [])).toBe(true);
    expect(binds('<sip:1001@10.0.0.5>', ['Expires:   0  '])).toBe(true);
  });

  it('reads contacts in addr-spec form, where parameters belong to the header', () => {
    const b = withContact('sip:1001@10.0.0.5:5099;expires=0').contacts.bindings[0];
    expect(b?.uri).toBe('sip:1001@10.0.0.5:5099');
    expect(b?.expires).toBe(0);
  });

  it('reads the digest user of every Authorization and Proxy-Authorization line, as Kamailio reads $au', () => {
    const auth = 'Digest username="1001", realm="intercom.example", nonce="n", uri="sip:intercom.example", response="0123456789abcdef0123456789abcdef", algorithm=MD5';
    expect(withContact('<sip:1001@h>', [`Authorization: ${auth}`]).digestUsers).toEqual(['1001']);
    expect(withContact('<sip:1001@h>', [`Authorization: ${auth}`, 'Proxy-Authorization: Digest realm="r", username=2002, response="x"']).digestUsers).toEqual(['1001', '2002']);
    expect(withContact('<sip:1001@h>', ['Authorization: Basic Zm9vOmJhcg==']).digestUsers).toEqual([]);
    expect(withContact('<sip:1001@h>').digestUsers).toEqual([]);
    expect(withContact('<sip:1001@h>', ['Authorization: Digest username="1001", username="3001", realm="r"']).digestUsers).toBeNull();
  });

  it('reads a digest user the way Kamailio does, or calls it ambiguous', () => {
    expect(digestUser('Digest   realm="a,b", username = "x"')).toBe('x');
    expect(digestUser('digest,username="1001",realm="r"')).toBe('1001');
    expect(digestUser('Digest username="1001@intercom.example", realm="r"')).toBe('1001');
    expect(digestUser('Digest username="sip:1001@intercom.example", realm="r"')).toBe('1001');
    expect(digestUser('Digest username=1001 , realm="r"')).toBe('1001');
    expect(digestUser('Digest realm="r", nonce="n"')).toBeNull();
    expect(digestUser('Digestx username="1001"')).toBeNull();
    expect(digestUser('Basic Zm9vOmJhcg==')).toBeNull();
    // Kamailio takes the last of two usernames; a first-match reader the first.
    expect(digestUser('Digest username="3001", username="1001"')).toBe(AMBIGUOUS);
    // Kamailio has no quoted-pairs: "10\", username="5001" is two parameters to it.
    expect(digestUser('Digest username="10\\", username="5001"')).toBe(AMBIGUOUS);
    expect(digestUser('Digest username="10\\"01"')).toBe(AMBIGUOUS);
    // Kamailio's token ends at white space and skips to the next comma: it reads 1001 here.
    expect(digestUser('Digest username=1001 username=5001, realm="r"')).toBe(AMBIGUOUS);
    // A parameter without '=' makes Kamailio take the next '=' for its value.
    expect(digestUser('Digest foo, username="5001"')).toBe(AMBIGUOUS);
    expect(digestUser('Digest username="1001')).toBe(AMBIGUOUS);
    expect(digestUser('Digest username=, realm="r"')).toBe(AMBIGUOUS);
  });

  it('reads User-Agent', () => {
    expect(withContact('<sip:1001@h>', ['User-Agent: IntercomApp/3.1 (iOS)']).userAgent).toBe('IntercomApp/3.1 (iOS)');
  });
});

describe('parseMessage: Content-Length framing (RFC 3261 §18.3)', () => {
  const base = register({ callId: 'cl', branch: 'z9hG4bK1' });

  it('cuts bytes past Content-Length from a datagram', () => {
    const text = base.replace('Content-Length: 0', 'Content-Length: 4') + 'bodyEXTRA';
    const m = ok(text);
    expect(m.body.toString()).toBe('body');
    expect(m.buf.length).toBe(Buffer.byteLength(text) - 5);
  });

  it('takes the rest of a datagram as body when Content-Length is absent, but not on a stream', () => {
    const text = base.replace('Content-Length: 0\r\n', '') + 'xyz';
    expect(ok(text).body.toString()).toBe('xyz');
    expect(problemOf(text, true)).toEqual({ problem: 'missing Content-Length', hasMessage: true });
  });

  it('refuses a body shorter than Content-Length, a malformed one, and two different ones', () => {
    expect(problemOf(base.replace('Content-Length: 0', 'Content-Length: 10') + 'abc').problem).toBe('body shorter than Content-Length');
    expect(problemOf(base.replace('Content-Length: 0', 'Content-Length: 1x')).problem).toBe('bad Content-Length');
    expect(problemOf(base.replace('Content-Length: 0', 'Content-Length: 0\r\nl: 3') + 'abc').problem).toBe('bad Content-Length');
  });
});

describe('parseMessage: invalid input', () => {
  const base = register({ callId: 'inv', branch: 'z9hG4bK1' });

  it.each([
    ['Call-ID', 'missing Call-ID'],
    ['CSeq', 'missing CSeq'],
    ['From', 'missing From'],
    ['To', 'missing To'],
    ['Via', 'missing Via'],
  ])('reports a missing %s but keeps the message for a 400', (name, problem) => {
    const text = base.split('\r\n').filter((l) => !l.startsWith(`${name}:`)).join('\r\n');
    expect(problemOf(text)).toEqual({ problem, hasMessage: true });
  });

  it('reports a CSeq whose method differs from the request method', () => {
    expect(problemOf(base.replace('CSeq: 1 REGISTER', 'CSeq: 1 INVITE')).problem).toBe('CSeq method does not match the request method');
  });

  it('reports a malformed Max-Forwards', () => {
    expect(problemOf(base.replace('Max-Forwards: 70', 'Max-Forwards: many')).problem).toBe('malformed Max-Forwards');
  });

  it.each([
    ['empty', ''],
    ['CRLF keep-alive', '\r\n\r\n'],
    ['no start line', 'hello world'],
    ['bad version', 'REGISTER sip:x SIP/3.0\r\n\r\n'],
    ['bad status', 'SIP/2.0 2x0 OK\r\n\r\n'],
    ['binary', '\u0000\u0001\u0002\r\n'],
    ['space in method', 'REG ISTER sip:x SIP/2.0\r\n\r\n'],
  ])('treats %s as garbage', (_name, text) => {
    expect(problemOf(text).hasMessage).toBe(false);
  });

  it('refuses messages over 64 KiB', () => {
    const big = base.replace('Content-Length: 0', 'Content-Length: 70000') + 'x'.repeat(70_000);
    expect(problemOf(big)).toEqual({ problem: 'message too large', hasMessage: false });
  });
});
