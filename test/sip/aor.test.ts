import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeNumber } from '../../src/policy/normalize-number.js';
import { readAorHost, readAorUser } from '../../src/sip/message/aor.js';
import { canonicalMethod, readMethod } from '../../src/sip/message/method.js';

/*
 * Each normalisation rule of the identity reader, as Kamailio 5.6's parse_uri + registrar
 * extract_aor apply it (the differential suite test/e2e/identity-differential.test.ts checks the
 * same rules against the real binary).
 */

describe('readAorUser: the AoR user as the registrar binds it', () => {
  it.each([
    ['plain', 'sip:1001@intercom.example', '1001'],
    ['sips and port', 'sips:1001@intercom.example:5061;transport=tls', '1001'],
    ['a password is not part of the user', 'sip:1001:secret@intercom.example', '1001'],
    ['no user part', 'sip:intercom.example', ''],
    ['no user part, with a port', 'sip:127.0.0.1:5060;lr', ''],
    ['tel URI', 'tel:+4930123;phone-context=example.com', '+4930123'],
  ])('%s', (_name, uri, user) => {
    expect(readAorUser(uri)).toBe(user);
  });

  it('lower-cases ASCII letters only (registrar case_sensitive 0; C tolower)', () => {
    expect(readAorUser('sip:LOBBY@intercom.example')).toBe('lobby');
    expect(readAorUser('sip:Lobby-B@intercom.example')).toBe('lobby-b');
    // Not a letter A-Z: left alone, like C's tolower in the "C" locale (Kamailio bound "Äb").
    expect(readAorUser('sip:ÄB@intercom.example')).toBe('Äb');
  });

  it('decodes %XX escapes to printable ASCII, after the case rule sees the decoded letter', () => {
    expect(readAorUser('sip:%31001@intercom.example')).toBe('1001');
    expect(readAorUser('sip:%4c%4FBBY@intercom.example')).toBe('lobby');
    expect(readAorUser('sip:10%3b01@intercom.example')).toBe('10;01');
    // %25 gives a literal '%' that is not decoded again.
    expect(readAorUser('sip:%2531@intercom.example')).toBe('%31');
  });

  it('calls a bad escape unreadable (the registrar answers 400)', () => {
    for (const user of ['%3g1', '10%', '10%3', '%011001', '%7f1', '%c3%a41']) {
      expect(readAorUser(`sip:${user}@intercom.example`), user).toBeNull();
    }
  });

  it('calls a user parameter without a value unreadable (Kamailio then keeps an earlier user=phone: found by the differential suite)', () => {
    expect(readAorUser('sip:%67%61%74%65;-@127.0.0.1;user=phone;user=')).toBeNull();
    expect(readAorUser('sip:5001;x@h;user=;user=phone')).toBeNull();
    expect(readAorUser('sip:5001;x@h;user=phone;lr')).toBe('5001');
  });

  it('cuts the user at ";" only with user=phone, exactly as written, the last user parameter counting', () => {
    expect(readAorUser('sip:1001;x@intercom.example;user=phone')).toBe('1001');
    expect(readAorUser('sip:1001;isub=12@intercom.example;user=phone')).toBe('1001');
    expect(readAorUser('sip:+1001;phone-context=+49@intercom.example;user=phone')).toBe('+1001');
    expect(readAorUser('sip:1001;x@intercom.example;USER=phone')).toBe('1001');
    expect(readAorUser('sip:1001;x@intercom.example')).toBe('1001;x');
    expect(readAorUser('sip:1001;x@intercom.example;user=PHONE')).toBe('1001;x');
    expect(readAorUser('sip:1001;x@intercom.example;user =phone')).toBe('1001;x');
    expect(readAorUser('sip:1001;x@intercom.example;user=phone;user=ip')).toBe('1001;x');
    expect(readAorUser('sip:1001;x@intercom.example;user=ip;user=phone')).toBe('1001');
    // A user=phone inside the user part is not a URI parameter.
    expect(readAorUser('sip:1001;user=phone@intercom.example')).toBe('1001;user=phone');
    // An escaped ';' is no separator: it stays in the AoR, decoded.
    expect(readAorUser('sip:1001%3bx@intercom.example;user=phone')).toBe('1001;x');
  });

  it('keeps visual separators and a leading +: they make another AoR for the registrar', () => {
    expect(readAorUser('sip:1-001@intercom.example')).toBe('1-001');
    expect(readAorUser('sip:(10)01@intercom.example')).toBe('(10)01');
    expect(readAorUser('sip:+1001@intercom.example')).toBe('+1001');
  });

  it('calls URIs the SIP server cannot parse unreadable', () => {
    for (const uri of [
      'sip:1001@evil@intercom.example',
      'sip:1001@intercom.example;x=a@b',
      'sip:@intercom.example',
      'sip::pw@intercom.example',
      'sip:10[0]1@intercom.example',
      'mailto:1001@intercom.example',
      'urn:service:sos',
      'tel:1001@intercom.example',
      'sip:',
      '1001@intercom.example',
    ]) {
      expect(readAorUser(uri), uri).toBeNull();
    }
  });

  it('never throws, and its result is always normalised (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const user = readAorUser(`sip:${s}@intercom.example`);
        if (user !== null) expect(normalizeNumber(user)).toBe(user);
      }),
      { numRuns: 500 },
    );
  });
});

describe('readAorHost: the domain as the registrar compares it with use_domain 1', () => {
  it('lower-cases, keeps IPv6 brackets and a trailing dot', () => {
    expect(readAorHost('sip:1001@Intercom.Example:5060;transport=tcp')).toBe('intercom.example');
    expect(readAorHost('sip:1001@127.0.0.1.')).toBe('127.0.0.1.');
    expect(readAorHost('sip:1001@[::ffff:127.0.0.1]:5060')).toBe('[::ffff:127.0.0.1]');
    expect(readAorHost('sip:intercom.example;lr')).toBe('intercom.example');
    expect(readAorHost('tel:+4930123')).toBe('');
    expect(readAorHost('sip:1001@[::1')).toBeNull();
  });
});

describe('normalizeNumber', () => {
  it('folds ASCII case and nothing else', () => {
    expect(normalizeNumber('LOBBY')).toBe('lobby');
    expect(normalizeNumber('+49-30')).toBe('+49-30');
    expect(normalizeNumber('1001')).toBe('1001');
  });
});

describe('methods are read case-insensitively, as Kamailio parse_method does', () => {
  it('gives the upper-case name of a known method, any other as sent', () => {
    const read = (m: string) => readMethod(Buffer.from(m, 'latin1'), 0, m.length);
    expect(read('register')).toBe('REGISTER');
    expect(read('Invite')).toBe('INVITE');
    expect(read('aCk')).toBe('ACK');
    expect(read('REGISTER')).toBe('REGISTER');
    expect(read('FOO')).toBe('FOO');
    expect(read('foo')).toBe('foo');
    expect(read('REGISTERX')).toBe('REGISTERX');
    expect(canonicalMethod('cancel')).toBe('CANCEL');
    expect(canonicalMethod('Bar')).toBe('Bar');
  });
});
