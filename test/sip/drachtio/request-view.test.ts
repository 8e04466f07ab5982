import { describe, expect, it } from 'vitest';
import { extractInvite, extractRegister } from '../../../src/sip/enforcement/extract-facts.js';
import type { RequestView } from '../../../src/sip/enforcement/request-view.js';
import { DrachtioRequestView, originOf } from '../../../src/sip/drachtio/drachtio-request-view.js';
import type { DrachtioRequest } from '../../../src/sip/drachtio/drachtio-types.js';
import { ServedDomains } from '../../../src/sip/enforcement/served-domains.js';
import { splitCredentials } from '../../../src/sip/drachtio/joined-values.js';
import { parseMessage } from '../../../src/sip/message/parse-message.js';
import { drachtioRequest } from './drachtio-harness.js';
import { appContact, sip } from './world.js';

function embeddedView(raw: string): RequestView {
  const parsed = parseMessage(Buffer.from(raw, 'utf8'));
  if (!parsed.ok) throw new Error(`test message did not parse: ${parsed.problem}`);
  return parsed.message;
}

function drachtioView(raw: string): DrachtioRequestView {
  return new DrachtioRequestView(drachtioRequest(raw));
}

/** Every field enforcement reads, as plain data. */
function fields(view: RequestView) {
  return {
    method: view.method,
    requestUri: view.requestUri,
    callId: view.callId,
    to: view.to,
    from: view.from,
    contacts: view.contacts,
    isDeregister: view.isDeregister,
    digestUsers: view.digestUsers,
    userAgent: view.userAgent,
  };
}

const base = (method: string, extra: readonly string[]) =>
  sip(`${method} sip:${method === 'REGISTER' ? '' : '1002@'}intercom.example`, [
    'Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-rv1;rport',
    'Max-Forwards: 70',
    'From: "Door, main" <sip:1001@intercom.example>;tag=ft1',
    `To: <sip:${method === 'REGISTER' ? '1001' : '1002'}@intercom.example>`,
    'Call-ID: view-1@127.0.0.1',
    `CSeq: 1 ${method}`,
    ...extra,
  ]);

const detection = { userAgent: /^IntercomApp\// };
const ALL_DOMAINS = new ServedDomains(false, []);

const CASES: Record<string, string> = {
  'plain REGISTER': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>;expires=600', 'Expires: 600']),
  'several Contacts on one line': base('REGISTER', [`Contact: <sip:1001@10.0.0.5:5099>;expires=600, ${appContact('a')}`]),
  'Contacts on several lines (compact form m)': base('REGISTER', ['m: <sip:1001@10.0.0.5:5099>', `Contact: ${appContact('b')}`, 'Expires: 60']),
  'addr-spec Contact with header params': base('REGISTER', ['Contact: sip:1001@10.0.0.5:5099;expires=0']),
  'de-REGISTER with Contact: *': base('REGISTER', ['Contact: *', 'Expires: 0']),
  'de-REGISTER by Expires: 0': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>', 'Expires: 0']),
  'repeated Expires lines: not a removal': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>', 'Expires: 0', 'Expires: 3600']),
  'lower-case method': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>']).replace('REGISTER sip:', 'register sip:').replace('CSeq: 1 REGISTER', 'CSeq: 1 Register'),
  'malformed contact expires beside Expires: 0': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>;expires=3600x', 'Expires: 0']),
  'REGISTER without Contact (a query)': base('REGISTER', ['Expires: 0']),
  'push parameters as header parameters': base('REGISTER', ['Contact: <sip:1001@10.0.0.5:5099>;pn-provider=fcm;pn-prid="tok,en";pn-param=p']),
  'Digest username with a quoted comma': base('REGISTER', [
    'Contact: <sip:1001@10.0.0.5:5099>',
    'Authorization: Digest realm="intercom, main", username="10,01", nonce="n", uri="sip:intercom.example", response="r"',
  ]),
  'Digest username twice: ambiguous': base('REGISTER', [
    'Contact: <sip:1001@10.0.0.5:5099>',
    'Authorization: Digest username="3001", username="1001", realm="r", nonce="n", response="r"',
  ]),
  'Digest username with a backslash: ambiguous': base('REGISTER', [
    'Contact: <sip:1001@10.0.0.5:5099>',
    'Authorization: Digest realm="intercom, main", username="10\\"01", nonce="n", uri="sip:intercom.example", response="r"',
  ]),
  'Bearer first, Digest on a second line': base('REGISTER', [
    'Contact: <sip:1001@10.0.0.5:5099>',
    'Authorization: Bearer abc.def=',
    'Authorization: Digest username="3003", realm="r", nonce="n", response="x"',
  ]),
  'Proxy-Authorization only': base('INVITE', ['Contact: <sip:1001@10.0.0.5:5099>', 'Proxy-Authorization: Digest username="1003", realm="r", response="x"']),
  'compact To/From/Call-ID and a User-Agent with commas': sip('INVITE sip:1002@intercom.example', [
    'v: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-rv2',
    'f: <sip:1001@intercom.example>;tag=a',
    't: sip:1002@intercom.example',
    'i: compact-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'User-Agent: IntercomApp/2.4 (Android 14, build 7)',
    'm: <sip:1001@10.0.0.5:5099;transport=tcp>',
  ]),
  'in-dialog INVITE': base('INVITE', ['Contact: <sip:1001@10.0.0.5:5099>']).replace('To: <sip:1002@intercom.example>', 'To: <sip:1002@intercom.example>;tag=callee'),
};

describe('DrachtioRequestView reads what the embedded proxy reads', () => {
  for (const [name, raw] of Object.entries(CASES)) {
    it(`same fields and facts: ${name}`, () => {
      const embedded = embeddedView(raw);
      const drachtio = drachtioView(raw);
      expect(fields(drachtio)).toEqual(fields(embedded));
      if (embedded.method === 'REGISTER') expect(extractRegister(drachtio, detection, ALL_DOMAINS)).toEqual(extractRegister(embedded, detection, ALL_DOMAINS));
      else expect(extractInvite(drachtio, detection, ALL_DOMAINS)).toEqual(extractInvite(embedded, detection, ALL_DOMAINS));
    });
  }

  it('finds the facts the policy needs in the awkward cases', () => {
    expect(drachtioView(CASES['several Contacts on one line'] ?? '').contacts.bindings.map((b) => b.instance)).toEqual([null, 'urn:uuid:a']);
    expect(drachtioView(CASES['Contacts on several lines (compact form m)'] ?? '').contacts.bindings).toHaveLength(2);
    expect(drachtioView(CASES['de-REGISTER with Contact: *'] ?? '').isDeregister).toBe(true);
    expect(drachtioView(CASES['REGISTER without Contact (a query)'] ?? '').isDeregister).toBe(false);
    expect(drachtioView(CASES['repeated Expires lines: not a removal'] ?? '').isDeregister).toBe(false);
    expect(drachtioView(CASES['Digest username with a quoted comma'] ?? '').digestUsers).toEqual(['10,01']);
    expect(drachtioView(CASES['Digest username with a backslash: ambiguous'] ?? '').digestUsers).toBeNull();
    expect(drachtioView(CASES['Digest username twice: ambiguous'] ?? '').digestUsers).toBeNull();
    expect(drachtioView(CASES['Bearer first, Digest on a second line'] ?? '').digestUsers).toEqual(['3003']);
    expect(drachtioView(CASES['Proxy-Authorization only'] ?? '').digestUsers).toEqual(['1003']);
    expect(drachtioView(CASES['lower-case method'] ?? '').method).toBe('REGISTER');
    expect(drachtioView(CASES['push parameters as header parameters'] ?? '').contacts.bindings[0]?.push).toEqual({ provider: 'fcm', prid: 'tok,en', param: 'p' });
    const compact = drachtioView(CASES['compact To/From/Call-ID and a User-Agent with commas'] ?? '');
    expect([compact.callId, compact.to?.uri, compact.userAgent]).toEqual(['compact-1@127.0.0.1', 'sip:1002@intercom.example', 'IntercomApp/2.4 (Android 14, build 7)']);
    expect(drachtioView(CASES['in-dialog INVITE'] ?? '').toTag).toBe('callee');
    expect(drachtioView(CASES['plain REGISTER'] ?? '').toTag).toBeNull();
  });

  it('is made once per request (the enforcement and proxy steps share its parses) and belongs to that request only', () => {
    const req = drachtioRequest(CASES['plain REGISTER'] ?? '');
    const view = DrachtioRequestView.of(req);
    expect(DrachtioRequestView.of(req)).toBe(view);
    expect(view.contacts).toBe(DrachtioRequestView.of(req).contacts);
    const other = DrachtioRequestView.of(drachtioRequest(CASES['plain REGISTER'] ?? ''));
    expect(other).not.toBe(view);
    expect(other.contacts).toEqual(view.contacts);
    // Nothing of it shows as a header or a field of drachtio-srf's request.
    expect(Object.keys(req.headers)).not.toContain('sipwarden.requestView');
    expect(JSON.stringify(Object.keys(req))).not.toContain('sipwarden');
  });

  it('reads a header keyed as written (X-, P-, DRACHTIO_PRESERVE_HEADER_NAMES) by its canonical name; where two keys meet, the first wins', () => {
    const view = (headers: Record<string, string>) =>
      new DrachtioRequestView({ method: 'REGISTER', uri: 'sip:intercom.example', headers } as unknown as DrachtioRequest);
    const contactUser = (headers: Record<string, string>) => view(headers).contacts.bindings.map((b) => b.uri);
    expect(contactUser({ Contact: '<sip:a@10.0.0.5>', contact: '<sip:b@10.0.0.5>' })).toEqual(['sip:a@10.0.0.5']);
    expect(contactUser({ contact: '<sip:b@10.0.0.5>', Contact: '<sip:a@10.0.0.5>' })).toEqual(['sip:b@10.0.0.5']);
    expect(contactUser({ 'X-Trace': '1', M: '<sip:c@10.0.0.5>' })).toEqual(['sip:c@10.0.0.5']);
    expect(view({ expires: '60', EXPIRES: '30' }).expires).toBe(60);
    expect(view({ 'Call-ID': 'kept-as-written@h', expires: '60' }).callId).toBe('kept-as-written@h');
    expect(view({ 'x-trace': '1' }).callId).toBeNull();
    // drachtio-srf itself keeps X- and P- names as written; the others are found beside them.
    const req = drachtioRequest(CASES['plain REGISTER']?.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nX-Trace: 1\r\nP-Preferred-Identity: <sip:1001@intercom.example>') ?? '');
    expect(Object.keys(req.headers)).toEqual(expect.arrayContaining(['X-Trace', 'P-Preferred-Identity', 'call-id', 'contact']));
    const real = new DrachtioRequestView(req);
    expect([real.callId, real.contacts.bindings.map((b) => b.uri), real.expires]).toEqual(['view-1@127.0.0.1', ['sip:1001@10.0.0.5:5099'], 600]);
  });

  it('takes the origin from the meta drachtio-server sends', () => {
    const req = drachtioRequest(CASES['plain REGISTER'] ?? '', { protocol: 'tcp', address: '127.0.0.9', port: 45678 });
    expect(originOf(req)).toEqual({ transport: 'tcp', address: '127.0.0.9', port: 45678 });
  });
});

describe('splitCredentials', () => {
  it('separates joined credentials by their scheme and keeps parameters together', () => {
    expect(splitCredentials('Digest username="a", realm="x, y",Digest username="b", nonce = "n"')).toEqual([
      'Digest username="a", realm="x, y"',
      'Digest username="b", nonce = "n"',
    ]);
    expect(splitCredentials('Bearer abc=, Digest username=c')).toEqual(['Bearer abc=', 'Digest username=c']);
    expect(splitCredentials('')).toEqual([]);
  });
});
