import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/policy/decision.js';
import { evaluateInvite } from '../../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../../src/policy/evaluate-register.js';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions } from '../../../src/policy/request-facts.js';
import { extractInvite, extractRegister } from '../../../src/sip/enforcement/extract-facts.js';
import { ServedDomains } from '../../../src/sip/enforcement/served-domains.js';
import { parseMessage } from '../../../src/sip/message/parse-message.js';
import { DAY, snapshotOf, T0 } from '../../policy/fixtures.js';

/*
 * Issue 7, items 1-6, as properties over generated variants of each identity-bearing field: the
 * request is written as a client may write it, read by the sidecar's own pipeline (parseMessage →
 * extract facts → policy), and the outcome is compared with a model of how Kamailio 5.6 reads the
 * same field. The model is this file's own copy of each rule (parse_method, the registrar's
 * expires handling, parse_uri + extract_aor, parse_digest_cred, usrloc use_domain), kept apart
 * from src so that a change to one is caught by the other; test/e2e/identity-differential.test.ts
 * checks the same grammar against the real binary.
 */

const NOW = T0 + 10 * DAY;
const WORLD = snapshotOf([
  { rootId: 1, name: 'Sunrise', validity: true, validFrom: T0, validUntil: T0 + 30 * DAY, numbers: [['1001', 10], ['1002', 10]] },
  { rootId: 2, name: 'Lapsed', validity: true, validFrom: T0 - 60 * DAY, validUntil: T0 - DAY, numbers: [['5001', 20], ['lobby', 20], ['gate', 20], ['a1b2', 20]] },
  { rootId: 3, name: 'Free', restrictions: false, numbers: [['2001', 30], ['2002', 30]] },
]);
const EXPIRED = ['5001', 'lobby', 'gate', 'a1b2'] as const;
const STRICT: PolicyOptions = { ...DEFAULT_POLICY_OPTIONS, unknownNumbers: 'reject' };
const ALL_DOMAINS = new ServedDomains(false, []);
const NO_APP = { userAgent: null };

/** What the sidecar does with a request: refused at parse (400), not gated, passed as not its domain, or the policy's decision. */
type Outcome = { readonly kind: 'bad-request' } | { readonly kind: 'not-gated'; readonly method: string } | { readonly kind: 'not-served' } | Decision;

let seq = 0;
function sip(requestLine: string, headers: readonly string[]): Buffer {
  seq++;
  const lines = [
    requestLine,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-p${seq};rport`,
    'Max-Forwards: 70',
    `Call-ID: prop-${seq}@127.0.0.1`,
    ...headers,
    'Content-Length: 0',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function registerOutcome(input: Buffer, options: PolicyOptions = DEFAULT_POLICY_OPTIONS, domains = ALL_DOMAINS): Outcome {
  const parsed = parseMessage(input);
  if (!parsed.ok) return { kind: 'bad-request' };
  if (parsed.message.method !== 'REGISTER') return { kind: 'not-gated', method: parsed.message.method };
  const { facts, served } = extractRegister(parsed.message, NO_APP, domains);
  return served ? evaluateRegister(facts, WORLD, NOW, options) : { kind: 'not-served' };
}

function inviteOutcome(input: Buffer, options: PolicyOptions = DEFAULT_POLICY_OPTIONS): Outcome {
  const parsed = parseMessage(input);
  if (!parsed.ok) return { kind: 'bad-request' };
  if (parsed.message.method !== 'INVITE') return { kind: 'not-gated', method: parsed.message.method };
  const { facts, served } = extractInvite(parsed.message, NO_APP, ALL_DOMAINS);
  return served ? evaluateInvite(facts, WORLD, NOW, options) : { kind: 'not-served' };
}

/** Refused by the sidecar (a 400 at parse or a 403 from the policy): never forwarded. */
function refused(o: Outcome): boolean {
  return o.kind === 'bad-request' || o.kind === 'deny';
}

/** The reason of a refusal, `deregister` for a removal passed unchecked, `allow` for any other pass, else the kind. */
function reason(o: Outcome): string {
  if (o.kind === 'deny') return o.reason;
  if (o.kind === 'allow') return o.basis === 'deregister' ? 'deregister' : 'allow';
  return o.kind;
}

function register(o: { method?: string; cseq?: string; to?: string; contacts?: readonly string[]; expires?: readonly string[]; auth?: readonly string[] }): Buffer {
  const method = o.method ?? 'REGISTER';
  const to = o.to ?? '<sip:1001@intercom.example>';
  return sip(`${method} sip:intercom.example SIP/2.0`, [
    `From: ${to};tag=f${seq}`,
    `To: ${to}`,
    `CSeq: 1 ${o.cseq ?? method}`,
    ...(o.contacts ?? ['<sip:1001@127.0.0.1:5099>']).map((c) => `Contact: ${c}`),
    ...(o.expires ?? []).map((e) => `Expires: ${e}`),
    ...(o.auth ?? []),
  ]);
}

function invite(o: { method?: string; requestUri?: string; from?: string; auth?: readonly string[] }): Buffer {
  const method = o.method ?? 'INVITE';
  const requestUri = o.requestUri ?? 'sip:1002@intercom.example';
  return sip(`${method} ${requestUri} SIP/2.0`, [
    `From: ${o.from ?? '<sip:1001@intercom.example>'};tag=f${seq}`,
    `To: <${requestUri}>`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:1001@127.0.0.1:5099>',
    ...(o.auth ?? []),
  ]);
}

/** In strict mode, `uri` as the To of a REGISTER, the From of an INVITE, or an INVITE's Request-URI. */
function strictOutcomeAt(where: 'to' | 'from' | 'ruri', uri: string): Outcome {
  if (where === 'to') return registerOutcome(register({ to: `<${uri}>` }), STRICT);
  return inviteOutcome(where === 'from' ? invite({ from: `<${uri}>` }) : invite({ requestUri: uri }), STRICT);
}

/** Each letter of `text` in upper or lower case, as `mask` says (a generated case variant). */
function withCase(text: string, mask: readonly boolean[]): string {
  return [...text].map((c, i) => (mask[i % Math.max(mask.length, 1)] ? c.toUpperCase() : c.toLowerCase())).join('');
}

const caseMask = fc.array(fc.boolean(), { minLength: 1, maxLength: 12 });

describe('hole 1: a method in any case is the method (Kamailio parse_method)', () => {
  it('a REGISTER written in any case, its CSeq in any case, is gated as REGISTER', () => {
    fc.assert(
      fc.property(caseMask, caseMask, fc.constantFrom(...EXPIRED), (lineMask, cseqMask, number) => {
        const o = registerOutcome(register({ method: withCase('REGISTER', lineMask), cseq: withCase('REGISTER', cseqMask), to: `<sip:${number}@intercom.example>` }));
        expect(reason(o)).toBe('license-expired');
      }),
      { numRuns: 300 },
    );
  });

  it('an INVITE written in any case is gated as INVITE, for its caller and its callee', () => {
    fc.assert(
      fc.property(caseMask, fc.constantFrom(...EXPIRED), fc.boolean(), (mask, number, asCallee) => {
        const method = withCase('INVITE', mask);
        const o = asCallee
          ? inviteOutcome(invite({ method, requestUri: `sip:${number}@intercom.example` }))
          : inviteOutcome(invite({ method, from: `<sip:${number}@intercom.example>` }));
        expect(reason(o)).toBe(asCallee ? 'callee-license-expired' : 'license-expired');
      }),
      { numRuns: 300 },
    );
  });

  it('an unknown number in strict mode is refused whatever the case of the method', () => {
    fc.assert(
      fc.property(caseMask, fc.constantFrom('REGISTER', 'INVITE'), (mask, method) => {
        const written = withCase(method, mask);
        const o =
          method === 'REGISTER'
            ? registerOutcome(register({ method: written, to: '<sip:9001@intercom.example>' }), STRICT)
            : inviteOutcome(invite({ method: written, from: '<sip:9001@intercom.example>' }), STRICT);
        expect(reason(o)).toBe('unknown-number');
      }),
      { numRuns: 100 },
    );
  });
});

/** An expires value as a client may write it: digits of any length (zeros too), signed, quoted, suffixed, empty. */
const expiresValue: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9]{1,12}$/),
  fc.integer({ min: 1, max: 13 }).map((n) => '0'.repeat(n)),
  fc.constantFrom('', 'abc', '-1', '+0', '-0', '0x0', '0.0', '0e0', '"0"', '"3600"', '3600x', '0abc', '١'),
);

/** One Contact's `expires` parameters: none, one, or repeated; the name in any case; sometimes without a value. */
const expiresParams = fc.array(
  fc.record({ name: caseMask.map((m) => withCase('expires', m)), value: fc.option(expiresValue, { nil: null, freq: 6 }) }),
  { maxLength: 3 },
);

/**
 * The registrar's reading (Kamailio 5.6 registrar + parse_contact): a binding is removed only when
 * its expiry reads as exactly 0 — a single `expires` parameter (any case) of 1-10 digits all 0, or
 * no such parameter and a single Expires header of 1-10 digits all 0. Anything else binds for
 * some time (the value, or default_expires for what it cannot read), so it is not a removal.
 */
function removedByRegistrar(params: readonly { name: string; value: string | null }[], headers: readonly string[]): boolean {
  const zero = (v: string) => /^0{1,10}$/.test(v.trim());
  const mine = params.filter((p) => p.name.toLowerCase() === 'expires');
  if (mine.length > 1) return false;
  const only = mine[0];
  if (only !== undefined) return only.value !== null && zero(only.value);
  return headers.length === 1 && zero(headers[0] ?? '');
}

describe('hole 2: a REGISTER is a de-REGISTER only when the registrar removes every binding it carries', () => {
  it('generated expires parameters and Expires headers: an expired number passes only as a true removal', () => {
    fc.assert(
      fc.property(
        fc.array(expiresParams, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(expiresValue, fc.constantFrom('0 junk', '0, 3600', ' 0 ')), { maxLength: 2 }),
        fc.boolean(),
        fc.constantFrom(...EXPIRED),
        (contacts, headers, oneLine, number) => {
          const written = contacts.map((params, i) => `<sip:${number}@127.0.0.1:${5100 + i}>${params.map((p) => `;${p.name}${p.value === null ? '' : `=${p.value}`}`).join('')}`);
          const o = registerOutcome(register({ to: `<sip:${number}@intercom.example>`, contacts: oneLine ? [written.join(', ')] : written, expires: headers }));
          const removal = contacts.every((params) => removedByRegistrar(params, headers));
          // A 400 is fine (nothing is bound); a pass only for a true removal; a true removal passes.
          if (o.kind !== 'bad-request') expect(reason(o), JSON.stringify({ contacts, headers })).toBe(removal ? 'deregister' : 'license-expired');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('Contact: * is a removal only with a single Expires header reading 0', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(expiresValue, fc.constant('0')), { maxLength: 2 }), fc.constantFrom(...EXPIRED), (headers, number) => {
        const o = registerOutcome(register({ to: `<sip:${number}@intercom.example>`, contacts: ['*'], expires: headers }));
        const removal = removedByRegistrar([], headers);
        if (o.kind !== 'bad-request') expect(reason(o), JSON.stringify(headers)).toBe(removal ? 'deregister' : 'license-expired');
      }),
      { numRuns: 300 },
    );
  });
});

/** URI and user-part parameter tokens that keep the URI readable. */
const token = fc.stringMatching(/^[a-z0-9-]{1,6}$/);
const userParams = fc.array(fc.tuple(token, fc.option(token, { nil: null })), { maxLength: 3 }).map((ps) => ps.map(([n, v]) => `;${n}${v === null ? '' : `=${v}`}`).join(''));
/** URI parameters after the host, `user=` among them in any case, with any value, in any order, repeated. */
const uriParams = fc
  .array(
    fc.oneof(
      fc.tuple(caseMask, fc.constantFrom('phone', 'PHONE', 'Phone', 'ip', 'phone2', '')).map(([m, v]) => `;${withCase('user', m)}=${v}`),
      fc.constantFrom(';transport=udp', ';lr', ';user', ';x-user=phone', ';isub=7'),
    ),
    { maxLength: 4 },
  )
  .map((ps) => ps.join(''));

/** parse_uri + extract_aor: the user is cut at its first ';' only when the last `user` URI parameter (name in any case) is exactly `phone`. */
function aorUser(user: string, params: string): string | null {
  let phone = false;
  for (const p of params.split(';').slice(1)) {
    const eq = p.indexOf('=');
    if (eq === 4 && p.slice(0, 4).toLowerCase() === 'user') {
      // An empty value keeps an earlier user=phone in Kamailio: the sidecar refuses such a URI.
      if (p.length === 5) return null;
      phone = p.slice(5) === 'phone';
    }
  }
  const cut = phone && user.includes(';') ? user.slice(0, user.indexOf(';')) : user;
  return cut.toLowerCase();
}

describe('hole 3: user-part parameters are cut as the registrar cuts them', () => {
  it('To, From and Request-URI users with generated parameters are the AoR Kamailio binds or looks up', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EXPIRED, '1001', '2001'), userParams, uriParams, fc.constantFrom('to', 'from', 'ruri'), (number, inUser, params, where) => {
        const uri = `sip:${number}${inUser}@intercom.example${params}`;
        const aor = aorUser(`${number}${inUser}`, params);
        const o = strictOutcomeAt(where, uri);
        // 1001 is licensed and 2001 unrestricted; any other AoR is unknown: refused in strict mode
        // as a caller or registrant, passed as a callee (strict mode is about who registers or calls).
        // Unreadable (an empty user=): refused, whichever way (400 at parse, 403 ambiguous identity).
        if (aor === null) {
          expect(refused(o), uri).toBe(true);
          return;
        }
        const expected = (EXPIRED as readonly string[]).includes(aor)
          ? where === 'ruri'
            ? 'callee-license-expired'
            : 'license-expired'
          : aor === number || where === 'ruri'
            ? 'allow'
            : 'unknown-number';
        expect(reason(o), uri).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

/** A Digest credentials value with generated `username` parameters (any number, name in any case, quoted or not) among the others, in any order. */
const credentialsArb = fc
  .record({
    users: fc.array(fc.tuple(fc.constantFrom(...EXPIRED, '1001', '2001', '9001'), caseMask, fc.boolean()), { minLength: 1, maxLength: 3 }),
    order: fc.nat(5),
    header: fc.constantFrom('Authorization', 'Proxy-Authorization'),
  })
  .map(({ users, order, header }) => {
    const names = users.map(([u, m, quoted]) => `${withCase('username', m)}=${quoted ? `"${u}"` : u}`);
    const rest = ['realm="intercom.example"', 'nonce="n0nce"', 'uri="sip:intercom.example"', 'response="00000000000000000000000000000000"', 'algorithm=MD5'];
    const params = [...rest.slice(0, order), ...names, ...rest.slice(order)];
    return { line: `${header}: Digest ${params.join(', ')}`, users: users.map(([u]) => u) };
  });

describe('hole 4: every identity is decided on, and a repeated digest username is refused (parse_digest_cred)', () => {
  it('generated credentials on a REGISTER and an INVITE: refused when a username repeats or any identity is refused', () => {
    fc.assert(
      fc.property(fc.array(credentialsArb, { minLength: 1, maxLength: 2 }), fc.constantFrom('1001', '2001', ...EXPIRED), fc.boolean(), (creds, number, asInvite) => {
        const auth = creds.map((c) => c.line);
        const o = asInvite
          ? inviteOutcome(invite({ from: `<sip:${number}@intercom.example>`, auth }))
          : registerOutcome(register({ to: `<sip:${number}@intercom.example>`, auth }));
        const repeated = creds.some((c) => c.users.length > 1);
        const identities = [number, ...creds.flatMap((c) => c.users)];
        const anyExpired = identities.some((u) => (EXPIRED as readonly string[]).includes(u));
        const context = JSON.stringify({ auth, number });
        if (repeated) expect(reason(o), context).toBe('ambiguous-identity');
        else if (anyExpired) expect(refused(o), context).toBe(true);
        // Identities that differ about a restricted number (1001 is restricted) are refused too.
        else if (new Set(identities).size > 1 && identities.some((u) => u === '1001')) expect(reason(o), context).toBe('ambiguous-identity');
        else expect(reason(o), context).toBe('allow');
      }),
      { numRuns: 1000 },
    );
  });
});

/** A number written with each letter in any case and any character %-escaped (hex digits in any case). */
const writtenNumber = fc
  .tuple(fc.constantFrom(...EXPIRED, '1001'), fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 4, maxLength: 5 }))
  .map(([number, marks]) => ({
    number,
    written: [...number]
      .map((c, i) => {
        const [upper, escape, hexUpper] = marks[i % marks.length] ?? [false, false, false];
        const ch = upper ? c.toUpperCase() : c;
        if (!escape) return ch;
        const hex = ch.charCodeAt(0).toString(16);
        return `%${hexUpper ? hex.toUpperCase() : hex}`;
      })
      .join(''),
  }));

describe('hole 5: numbers are matched as the registrar matches AoRs (case, escapes), separators and + are other AoRs', () => {
  it('any case and any %-escape of a stored number is that number', () => {
    fc.assert(
      fc.property(writtenNumber, fc.constantFrom('to', 'from', 'ruri'), ({ number, written }, where) => {
        const uri = `sip:${written}@intercom.example`;
        const o = strictOutcomeAt(where, uri);
        if (number === '1001') expect(reason(o), uri).toBe('allow');
        else expect(reason(o), uri).toBe(where === 'ruri' ? 'callee-license-expired' : 'license-expired');
      }),
      { numRuns: 1000 },
    );
  });

  it('a visual separator or a leading + makes another AoR: never the stored number, so unknown in strict mode', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EXPIRED), fc.constantFrom('-', '.', '(', ')', '+'), fc.nat(), (number, sep, at) => {
        const i = sep === '+' ? 0 : 1 + (at % (number.length - 1));
        const written = `${number.slice(0, i)}${sep}${number.slice(i)}`;
        expect(reason(registerOutcome(register({ to: `<sip:${written}@intercom.example>` }), STRICT)), written).toBe('unknown-number');
        expect(reason(registerOutcome(register({ to: `<sip:${written}@intercom.example>` }))), written).toBe('allow');
      }),
      { numRuns: 300 },
    );
  });
});

/** Hosts as a client may write them: served domains in any case, with a trailing dot, IPv4-mapped IPv6, others. */
const hostArb = fc.oneof(
  fc.tuple(fc.constantFrom('intercom.example', '127.0.0.1'), caseMask, fc.boolean()).map(([d, m, dot]) => `${withCase(d, m)}${dot ? '.' : ''}`),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `127.${a}.${b}.1`),
  fc.tuple(caseMask).map(([m]) => `[${withCase('::FFFF:127.0.0.1', m)}]`),
  fc.constantFrom('[::1]', 'other.example', 'intercom.example.org'),
);
const SERVED = ['intercom.example', '127.0.0.1'];

describe('hole 6: domains count only when the SIP server tells them apart (usrloc use_domain)', () => {
  it('use_domain 0: every domain is enforced, as the registrar binds the user part whatever the host', () => {
    fc.assert(
      fc.property(hostArb, fc.constantFrom(...EXPIRED), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null }), (host, number, port) => {
        const to = `<sip:${number}@${host}${port === null ? '' : `:${port}`}>`;
        expect(reason(registerOutcome(register({ to }), DEFAULT_POLICY_OPTIONS, new ServedDomains(false, SERVED))), to).toBe('license-expired');
      }),
      { numRuns: 500 },
    );
  });

  it('use_domain 1: a served domain (compared as usrloc compares it: case folded, nothing else) is enforced, another is not the sidecar’s', () => {
    fc.assert(
      fc.property(hostArb, fc.constantFrom(...EXPIRED), (host, number) => {
        const to = `<sip:${number}@${host}>`;
        const key = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
        const served = SERVED.includes(key);
        const o = registerOutcome(register({ to }), DEFAULT_POLICY_OPTIONS, new ServedDomains(true, SERVED));
        expect(reason(o), to).toBe(served ? 'license-expired' : 'not-served');
      }),
      { numRuns: 500 },
    );
  });
});
