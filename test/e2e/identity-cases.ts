import fc from 'fast-check';
import { digestResponse, sipRequest, token } from './raw-sip.js';

/*
 * The grammar of identity-bearing fields for the differential suite (issue 7): how a client may
 * write a number, a domain, an expiry and its credentials, and how Kamailio 5.6 picks the
 * credentials it authenticates (read from its source: auth's find_credentials takes the first
 * credentials of the header type with the realm; its digest parser keeps the last `username`;
 * pv's $au reads the first Proxy-Authorization, else the first Authorization).
 */

export const REALM = 'sipwarden.test';

/** How a number is written in a URI user part (and which URI parameters go with it). */
export const USER_FORMS = [
  'plain',
  'upper',
  'mixed',
  'escaped',
  'bad-escape',
  'phone-isub',
  'phone-context',
  'phone-upper',
  'semicolon',
  'phone-last',
  'phone-overridden',
  'password',
  'plus',
  'separator',
] as const;
export type UserForm = (typeof USER_FORMS)[number];

export interface WrittenUser {
  readonly user: string;
  /** URI parameters after the host, e.g. `;user=phone`. */
  readonly uriParams: string;
}

/** A fixed form, or a user part generated whole (see generatedUserArb). */
export type UserWriting = UserForm | WrittenUser;

export function writeUser(number: string, form: UserWriting): WrittenUser {
  if (typeof form === 'object') return form;
  switch (form) {
    case 'plain':
      return { user: number, uriParams: '' };
    case 'upper':
      return { user: number.toUpperCase(), uriParams: '' };
    case 'mixed':
      return { user: [...number].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join(''), uriParams: '' };
    case 'escaped': {
      // The first character as %XX; a letter in upper case, so case and escapes meet.
      const first = (number[0] ?? '').toUpperCase();
      return { user: `%${first.charCodeAt(0).toString(16).toUpperCase()}${number.slice(1)}`, uriParams: '' };
    }
    case 'bad-escape':
      return { user: `%zz${number}`, uriParams: '' };
    case 'phone-isub':
      return { user: `${number};isub=7`, uriParams: ';user=phone' };
    case 'phone-context':
      return { user: `${number};phone-context=+4930`, uriParams: ';user=phone' };
    case 'phone-upper':
      return { user: `${number};x`, uriParams: ';user=PHONE' };
    case 'semicolon':
      return { user: `${number};x`, uriParams: '' };
    case 'phone-last':
      return { user: `${number};x`, uriParams: ';user=ip;user=phone' };
    case 'phone-overridden':
      return { user: `${number};x`, uriParams: ';user=phone;user=ip' };
    case 'password':
      return { user: `${number}:secret`, uriParams: '' };
    case 'plus':
      return { user: `+${number}`, uriParams: '' };
    case 'separator':
      return { user: `${number.slice(0, 1)}-${number.slice(1)}`, uriParams: '' };
  }
}

export const DOMAINS = ['127.0.0.1', '127.0.0.2', '127.0.0.1.', '[::ffff:127.0.0.1]', 'Intercom.Example'] as const;

export type AddrForm = 'name-addr' | 'display' | 'addr-spec';

export function nameAddr(uri: string, form: AddrForm): string {
  if (form === 'addr-spec') return uri;
  if (form === 'display') return `"Door \\"A\\", <main>" <${uri}>`;
  return `<${uri}>`;
}

/** Contact header parameters (the `expires` of one binding), as a client may write them. */
export const CONTACT_PARAMS = [
  '',
  ';expires=0',
  ';expires=3600',
  ';expires=abc',
  ';expires="3600"',
  ';expires="0"',
  ';expires=3600x',
  ';expires=-1',
  ';expires=+0',
  ';expires=',
  ';expires',
  ';expires=0;expires=3600',
  ';expires=3600;expires=0',
  ';EXPIRES=0',
  ';expires=0000000000',
  ';expires=00000000000',
] as const;

/** Expires header lines. */
export const EXPIRES_HEADERS: readonly (readonly string[])[] = [[], ['0'], ['3600'], ['abc'], ['0 junk'], ['00000000000'], ['0', '3600'], ['0, 3600'], ['1']];

/** How a digest username is written for a number. */
export const USERNAME_FORMS = ['plain', 'upper', 'at-domain', 'sip-uri'] as const;
export type UsernameForm = (typeof USERNAME_FORMS)[number];

export function writeUsername(number: string, form: UsernameForm): string {
  if (form === 'upper') return number.toUpperCase();
  if (form === 'at-domain') return `${number}@${REALM}`;
  if (form === 'sip-uri') return `sip:${number}@${REALM}`;
  return number;
}

export interface CredentialSpec {
  readonly header: 'Authorization' | 'Proxy-Authorization';
  /** The username parameters as written, in order (Kamailio keeps the last). */
  readonly usernames: readonly string[];
  readonly realm: string;
  readonly quoted: boolean;
  /** username parameters after the others (response, nonce, ...) rather than first. */
  readonly usernameLast: boolean;
}

/** Kamailio's parse_username: `user@domain` and `sip:user` give `user` (whole kept when ≤ 2 chars). */
export function kamailioAuthUser(whole: string): string {
  if (whole.length <= 2) return whole;
  const at = whole.indexOf('@');
  const user = at < 0 ? whole : whole.slice(0, at);
  const colon = user.indexOf(':');
  return colon < 0 ? user : user.slice(colon + 1);
}

/** `$au` in the registrar's password "pw-$au": the first Proxy-Authorization, else the first Authorization. */
function passwordUser(credentials: readonly CredentialSpec[]): string | null {
  const first = credentials.find((c) => c.header === 'Proxy-Authorization') ?? credentials.find((c) => c.header === 'Authorization');
  const last = first?.usernames.at(-1);
  return last === undefined ? null : kamailioAuthUser(last);
}

/**
 * The user Kamailio authenticates on a 2xx: REGISTER by Authorization, INVITE by
 * Proxy-Authorization (pv_www/pv_proxy_authenticate), the first credentials with the realm, its
 * last username.
 */
export function authenticatedUser(method: 'REGISTER' | 'INVITE', credentials: readonly CredentialSpec[]): string | null {
  const type = method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization';
  const chosen = credentials.find((c) => c.header === type && c.realm.toLowerCase() === REALM);
  const last = chosen?.usernames.at(-1);
  return last === undefined ? null : kamailioAuthUser(last);
}

/** The credentials lines, each with a response the registrar accepts when it picks that one. */
export function credentialLines(credentials: readonly CredentialSpec[], o: { requestLineMethod: string; uri: string; nonce: string }): string[] {
  const password = `pw-${passwordUser(credentials) ?? ''}`;
  return credentials.map((c) => {
    const last = c.usernames.at(-1) ?? '';
    const response = digestResponse({ username: last, realm: c.realm, password, method: o.requestLineMethod, uri: o.uri, nonce: o.nonce });
    const names = c.usernames.map((u) => `username=${c.quoted ? `"${u}"` : u}`);
    const rest = [`realm="${c.realm}"`, `nonce="${o.nonce}"`, `uri="${o.uri}"`, `response="${response}"`, 'algorithm=MD5'];
    return `${c.header}: Digest ${(c.usernameLast ? [...rest, ...names] : [...names, ...rest]).join(', ')}`;
  });
}

export type ClientTransport = 'udp' | 'tcp' | 'ws';

export interface RegisterCase {
  readonly kind: 'register';
  readonly transport: ClientTransport;
  readonly strict: boolean;
  readonly method: string;
  /** The CSeq method as written (a case variant of `method` at most). */
  readonly cseqMethod: string;
  readonly number: string;
  readonly userForm: UserWriting;
  readonly domain: string;
  readonly addr: AddrForm;
  /** null: `Contact: *`. Otherwise the parameters of each binding. */
  readonly contacts: readonly string[] | null;
  readonly contactsOnOneLine: boolean;
  readonly expires: readonly string[];
  readonly credentials: readonly CredentialSpec[];
}

export interface InviteCase {
  readonly kind: 'invite';
  readonly transport: ClientTransport;
  readonly strict: boolean;
  readonly method: string;
  readonly cseqMethod: string;
  readonly caller: string;
  readonly callerForm: UserWriting;
  readonly callerAddr: AddrForm;
  readonly callee: string;
  readonly calleeForm: UserWriting;
  readonly domain: string;
  readonly credentials: readonly CredentialSpec[];
}

/** A plain REGISTER of 1001 over UDP to the default sidecar, with whatever `o` changes. */
export function registerCase(o: Partial<RegisterCase> = {}): RegisterCase {
  return {
    kind: 'register',
    transport: 'udp',
    strict: false,
    method: 'REGISTER',
    cseqMethod: o.method ?? 'REGISTER',
    number: '1001',
    userForm: 'plain',
    domain: '127.0.0.1',
    addr: 'name-addr',
    contacts: [''],
    contactsOnOneLine: false,
    expires: ['3600'],
    credentials: [],
    ...o,
  };
}

/** A plain INVITE from 1001 to 1002 over UDP to the default sidecar, with whatever `o` changes. */
export function inviteCase(o: Partial<InviteCase> = {}): InviteCase {
  return {
    kind: 'invite',
    transport: 'udp',
    strict: false,
    method: 'INVITE',
    cseqMethod: o.method ?? 'INVITE',
    caller: '1001',
    callerForm: 'plain',
    callerAddr: 'name-addr',
    callee: '1002',
    calleeForm: 'plain',
    domain: '127.0.0.1',
    credentials: [],
    ...o,
  };
}

/** Digest credentials of the test realm, usernames as given (Kamailio reads the last). */
export function credential(header: CredentialSpec['header'], ...usernames: string[]): CredentialSpec {
  return { header, usernames, realm: REALM, quoted: true, usernameLast: false };
}

export interface Rendered {
  readonly text: string;
  readonly callId: string;
}

export function renderRegister(c: RegisterCase, via: { transport: string; sentBy: string }, nonce: string): Rendered {
  const callId = `${token()}@differential`;
  const w = writeUser(c.number, c.userForm);
  const requestUri = `sip:${c.domain}`;
  const contacts =
    c.contacts === null
      ? ['Contact: *']
      : c.contactsOnOneLine
        ? [`Contact: ${c.contacts.map((p, i) => `<sip:${c.number}@127.0.0.1:${5990 + i}>${p}`).join(', ')}`]
        : c.contacts.map((p, i) => `Contact: <sip:${c.number}@127.0.0.1:${5990 + i}>${p}`);
  const text = sipRequest(`${c.method} ${requestUri} SIP/2.0`, [
    `Via: SIP/2.0/${via.transport} ${via.sentBy};rport;branch=z9hG4bK${token()}`,
    'Max-Forwards: 70',
    `From: <sip:${c.number}@${c.domain}>;tag=${token()}`,
    `To: ${nameAddr(`sip:${w.user}@${c.domain}${w.uriParams}`, c.addr)}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${c.cseqMethod}`,
    ...contacts,
    ...c.expires.map((e) => `Expires: ${e}`),
    ...credentialLines(c.credentials, { requestLineMethod: c.method, uri: requestUri, nonce }),
  ]);
  return { text, callId };
}

export function renderInvite(c: InviteCase, via: { transport: string; sentBy: string }, nonce: string): Rendered {
  const callId = `${token()}@differential`;
  const from = writeUser(c.caller, c.callerForm);
  const to = writeUser(c.callee, c.calleeForm);
  const requestUri = `sip:${to.user}@${c.domain}${to.uriParams}`;
  const text = sipRequest(`${c.method} ${requestUri} SIP/2.0`, [
    `Via: SIP/2.0/${via.transport} ${via.sentBy};rport;branch=z9hG4bK${token()}`,
    'Max-Forwards: 70',
    `From: ${nameAddr(`sip:${from.user}@${c.domain}${from.uriParams}`, c.callerAddr)};tag=${token()}`,
    `To: <sip:${c.callee}@${c.domain}>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${c.cseqMethod}`,
    `Contact: <sip:${c.caller}@${via.sentBy};transport=${via.transport.toLowerCase()}>`,
    ...credentialLines(c.credentials, { requestLineMethod: c.method, uri: requestUri, nonce }),
  ]);
  return { text, callId };
}

/** Each letter of `text` in upper or lower case as `mask` says (repeated when shorter). */
function withCase(text: string, mask: readonly boolean[]): string {
  return [...text].map((c, i) => (mask[i % Math.max(mask.length, 1)] ? c.toUpperCase() : c.toLowerCase())).join('');
}

const caseMask = fc.array(fc.boolean(), { minLength: 1, maxLength: 10 });

/** Generated case variants of a method name: each letter in either case, mostly as RFC 3261 writes it. */
function methodCase(method: string): fc.Arbitrary<string> {
  return fc.oneof({ weight: 1, arbitrary: fc.constant(method) }, { weight: 2, arbitrary: caseMask.map((m) => withCase(method, m)) });
}

const paramToken = fc.stringMatching(/^[a-z0-9-]{1,5}$/);

/**
 * A user part generated whole: each character of the number in either case and maybe %-escaped
 * (hex digits in either case), maybe followed by `;name=value` user parameters, with URI
 * parameters after the host that carry `user=` in any case, with any value, repeated or not.
 */
function generatedUserArb(number: string): fc.Arbitrary<WrittenUser> {
  const char = fc.record({ upper: fc.boolean(), escape: fc.nat(4), hexUpper: fc.boolean() });
  const inUser = fc.array(fc.tuple(paramToken, fc.option(paramToken, { nil: null })), { maxLength: 2 });
  const uriParam = fc.oneof(
    fc.tuple(caseMask, fc.constantFrom('phone', 'PHONE', 'ip', '')).map(([m, v]) => `;${withCase('user', m)}=${v}`),
    fc.constantFrom(';transport=udp', ';lr', ';isub=7'),
  );
  return fc
    .record({ chars: fc.array(char, { minLength: number.length, maxLength: number.length }), inUser, uriParams: fc.array(uriParam, { maxLength: 3 }) })
    .map(({ chars, inUser: params, uriParams }) => {
      const user = [...number]
        .map((c, i) => {
          const w = chars[i] ?? { upper: false, escape: 1, hexUpper: false };
          const ch = w.upper ? c.toUpperCase() : c;
          if (w.escape !== 0) return ch;
          const hex = ch.charCodeAt(0).toString(16);
          return `%${w.hexUpper ? hex.toUpperCase() : hex}`;
        })
        .join('');
      return { user: `${user}${params.map(([n, v]) => `;${n}${v === null ? '' : `=${v}`}`).join('')}`, uriParams: uriParams.join('') };
    });
}

/** A user part: plain, one of the fixed forms, or generated whole. */
function userWritingArb(number: string): fc.Arbitrary<UserWriting> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant<UserWriting>('plain') },
    { weight: 3, arbitrary: fc.constantFrom<UserWriting>(...USER_FORMS) },
    { weight: 3, arbitrary: generatedUserArb(number) },
  );
}

/** An expires value generated as a client may write it: digits of any length, zeros, signed, quoted, suffixed, empty. */
const expiresValueArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9]{1,12}$/),
  fc.integer({ min: 1, max: 12 }).map((n) => '0'.repeat(n)),
  fc.constantFrom('', 'abc', '-1', '+0', '"0"', '"3600"', '3600x', '0x0'),
);

/** One binding's parameters: a fixed case, or generated `expires` parameters (name in any case, repeated, valueless). */
const contactParamsArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...CONTACT_PARAMS) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(caseMask, fc.option(expiresValueArb, { nil: null, freq: 6 })), { minLength: 1, maxLength: 3 })
      .map((ps) => ps.map(([m, v]) => `;${withCase('expires', m)}${v === null ? '' : `=${v}`}`).join('')),
  },
);

/** Expires header lines: a fixed case, or generated values (one or two headers). */
const expiresHeadersArb: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...EXPIRES_HEADERS) },
  { weight: 1, arbitrary: fc.array(expiresValueArb, { minLength: 1, maxLength: 2 }) },
);

/** A domain: a fixed one, or a served one in any case, maybe with a trailing dot. */
const domainArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...DOMAINS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('127.0.0.1', 'intercom.example'), caseMask, fc.boolean()).map(([d, m, dot]) => `${withCase(d, m)}${dot ? '.' : ''}`) },
);

function credentialArb(numbers: readonly string[], headers: readonly CredentialSpec['header'][]): fc.Arbitrary<CredentialSpec> {
  const username = fc.tuple(fc.constantFrom(...numbers), fc.constantFrom(...USERNAME_FORMS)).map(([n, f]) => writeUsername(n, f));
  return fc.record({
    header: fc.constantFrom(...headers),
    usernames: fc.array(username, { minLength: 1, maxLength: 2 }),
    realm: fc.constantFrom(REALM, REALM, REALM, 'other.realm', 'SIPWARDEN.TEST'),
    quoted: fc.boolean(),
    usernameLast: fc.boolean(),
  });
}

/**
 * Credentials for a request naming `number`: mostly none or the number's own (written every way a
 * client may), sometimes anything from the pool (decoys, repeated usernames, other realms).
 */
function credentialsFor(number: string, pool: readonly string[], own: CredentialSpec['header'], headers: readonly CredentialSpec['header'][]): fc.Arbitrary<readonly CredentialSpec[]> {
  const ownCredentials = fc
    .record({ form: fc.constantFrom(...USERNAME_FORMS), realm: fc.constantFrom(REALM, REALM, REALM, 'SIPWARDEN.TEST'), quoted: fc.boolean(), usernameLast: fc.boolean() })
    .map(({ form, realm, quoted, usernameLast }): readonly CredentialSpec[] => [{ header: own, usernames: [writeUsername(number, form)], realm, quoted, usernameLast }]);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 4, arbitrary: ownCredentials },
    { weight: 2, arbitrary: fc.array(credentialArb(pool, headers), { minLength: 1, maxLength: 2 }) },
  );
}

const transportArb = fc.constantFrom<ClientTransport>('udp', 'udp', 'tcp', 'ws');

export function registerCaseArb(numbers: readonly string[]): fc.Arbitrary<RegisterCase> {
  return fc.constantFrom(...numbers).chain((number) => fc
    .record({
      transport: transportArb,
      strict: fc.boolean(),
      method: methodCase('REGISTER'),
      cseqSame: fc.nat(9),
      cseqMethod: methodCase('REGISTER'),
      number: fc.constant(number),
      userForm: userWritingArb(number),
      domain: domainArb,
      addr: fc.constantFrom<AddrForm>('name-addr', 'name-addr', 'display', 'addr-spec'),
      star: fc.nat(9),
      contacts: fc.array(contactParamsArb, { minLength: 1, maxLength: 2 }),
      contactsOnOneLine: fc.boolean(),
      expires: expiresHeadersArb,
      credentials: credentialsFor(number, numbers, 'Authorization', ['Authorization', 'Authorization', 'Proxy-Authorization']),
    })
    .map((r) => ({
      kind: 'register' as const,
      transport: r.transport,
      strict: r.strict,
      method: r.method,
      // Mostly the same text as the request line; sometimes another case of it.
      cseqMethod: r.cseqSame < 8 ? r.method : r.cseqMethod,
      number: r.number,
      userForm: r.userForm,
      domain: r.domain,
      addr: r.addr,
      contacts: r.star === 0 ? null : r.contacts,
      contactsOnOneLine: r.contactsOnOneLine,
      expires: r.expires,
      credentials: r.credentials,
    })));
}

export function inviteCaseArb(callers: readonly string[], callees: readonly string[]): fc.Arbitrary<InviteCase> {
  return fc.constantFrom(...callers).chain((caller) => fc
    .record({
      transport: transportArb,
      strict: fc.boolean(),
      method: methodCase('INVITE'),
      cseqSame: fc.nat(9),
      cseqMethod: methodCase('INVITE'),
      caller: fc.constant(caller),
      callerForm: userWritingArb(caller),
      callerAddr: fc.constantFrom<AddrForm>('name-addr', 'name-addr', 'display', 'addr-spec'),
      callee: fc.constantFrom(...callees).chain((callee) =>
        fc.tuple(
          fc.constant(callee),
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom<UserWriting>('plain', 'plain', 'upper', 'escaped', 'phone-isub', 'semicolon', 'phone-last', 'password') },
            { weight: 1, arbitrary: generatedUserArb(callee) },
          ),
        ),
      ),
      domain: domainArb,
      credentials: credentialsFor(caller, callers, 'Proxy-Authorization', ['Proxy-Authorization', 'Proxy-Authorization', 'Authorization']),
    })
    .map((r) => ({
      kind: 'invite' as const,
      transport: r.transport,
      strict: r.strict,
      method: r.method,
      cseqMethod: r.cseqSame < 8 ? r.method : r.cseqMethod,
      caller: r.caller,
      callerForm: r.callerForm,
      callerAddr: r.callerAddr,
      callee: r.callee[0],
      calleeForm: r.callee[1],
      domain: r.domain,
      credentials: r.credentials,
    })));
}
