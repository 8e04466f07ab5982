import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateInvite } from '../../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../../src/policy/evaluate-register.js';
import type { PolicyOptions } from '../../src/policy/request-facts.js';
import type { LicenseSnapshot } from '../../src/policy/snapshot.js';
import { startKamailio, type KamailioHandle } from '../support/kamailio.js';
import { boundAors, kamcmdMissing, removeAor } from '../support/kamailio-location.js';
import { missingPeers } from '../support/peer-tools.js';
import {
  authenticatedUser,
  credential,
  inviteCase,
  inviteCaseArb,
  registerCase,
  registerCaseArb,
  renderInvite,
  renderRegister,
  type CredentialSpec,
  type InviteCase,
  type RegisterCase,
} from './identity-cases.js';
import { OPEN_FROM, OPEN_UNTIL } from './projects.js';
import { ackFor, CalleePhone, RawSipClient, sipRequest, token, type RawAnswer, type RawTransport } from './raw-sip.js';
import { startTestSidecar, type ProjectSpec, type TestSidecar } from './sidecar-fixture.js';

/*
 * The differential suite of issue 7: requests whose identity-bearing fields (method, user part,
 * parameters, escapes, credentials, expiry, domain) are written every way a client could, sent
 * through a real sidecar to Kamailio set up like the README's registrar (usrloc use_domain 0),
 * with and without digest authentication. After each one, Kamailio's own account of what it did
 * is read — its location table through the ctl module (`kamcmd ul.dump`), the callee socket a call
 * reached, the caller as Kamailio read it — and judged by the policy: nothing the policy refuses
 * may ever be bound or reached.
 */

const missing = missingPeers() ?? kamcmdMissing();
if (missing) console.warn(`\n*** test/e2e/identity-differential.test.ts SKIPPED: ${missing} ***\n`);

const PROJECTS: readonly ProjectSpec[] = [
  { group: 'Sunrise', validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['1001', '1002'] },
  { group: 'Crowded', validFrom: OPEN_FROM, validUntil: OPEN_UNTIL, numbers: ['3001', '3002', '3003'], lowerNumbersTo: 2 },
  { group: 'Future', validFrom: '2099-01-01T00:00:00Z', validUntil: OPEN_UNTIL, numbers: ['4001'] },
  { group: 'Lapsed', validFrom: OPEN_FROM, validUntil: '2021-01-01T00:00:00Z', numbers: ['5001', '5002', 'lobby', 'gate'] },
  { group: 'Free', restrictions: false, numbers: ['2001', '2002'] },
];

/** Numbers a REGISTER or a caller may name: licensed, over the limit, not yet valid, expired, alphanumeric expired, unrestricted, unknown. */
const CLIENT_NUMBERS = ['1001', '3003', '4001', '5001', 'lobby', '2001', '9001'];
/** Callees, registered straight on Kamailio by phones the test holds: licensed, expired, alphanumeric expired, unrestricted, unknown. */
const CALLEES = ['1002', '5002', 'gate', '2002', '9002'];

/** Bounded run counts: each run is a few loopback round trips and two kamcmd calls. */
const REGISTER_RUNS = 80;
const INVITE_RUNS = 80;
const ANSWER_MS = 3000;

interface Outcome {
  readonly answer: RawAnswer | null;
  /** AoRs this request left in Kamailio's location table. */
  readonly bound: readonly string[];
  /** Callees whose phone received the INVITE, with the caller as Kamailio read it. */
  readonly reached: readonly { readonly callee: string; readonly from: string }[];
  /** Why what Kamailio did breaks the policy; null when it does not. */
  readonly violation: string | null;
  readonly request: string;
}

/** Lower-cases ASCII, as the registrar's case_sensitive 0 (the oracle's own copy of the rule). */
function lower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

function restricted(number: string | null, snapshot: LicenseSnapshot): boolean {
  if (number === null) return false;
  const entry = snapshot.number(number);
  const group = entry === undefined ? undefined : (entry.group ?? snapshot.group(entry.rootId));
  return group?.restrictions === true;
}

/**
 * The oracle. `acted`: the identities Kamailio acted on for one binding or one call — the AoR or
 * caller as Kamailio read it, and the user it authenticated. A violation when the policy refuses
 * any of them, or when they differ and either is a restricted number.
 */
function violationOf(
  acted: readonly (string | null)[],
  decide: (identity: string | null) => { kind: string; reason?: string },
  snapshot: LicenseSnapshot,
): string | null {
  for (const identity of new Set(acted)) {
    const d = decide(identity);
    if (d.kind === 'deny') return `the policy refuses ${identity ?? '(no number)'} (${d.reason ?? '?'})`;
  }
  const [first, ...others] = acted;
  for (const other of others) {
    if (other !== first && (restricted(first ?? null, snapshot) || restricted(other, snapshot))) {
      return `identities disagree about a restricted number: ${first ?? '(none)'} / ${other ?? '(none)'}`;
    }
  }
  return null;
}

/** Domains the sidecar licenses in the world whose registrar keeps domains apart (use_domain 1). */
const SERVED = ['127.0.0.1', 'intercom.example'];

interface WorldOptions {
  readonly auth: boolean;
  /** The registrar keeps AoRs apart by domain (usrloc use_domain 1) and the sidecar is told so. */
  readonly useDomain: boolean;
}

class World {
  registrar: KamailioHandle | undefined;
  readonly sidecars = new Map<boolean, TestSidecar>();
  readonly clients = new Map<string, RawSipClient>();
  readonly phones = new Map<string, CalleePhone>();
  nonce = 'no-nonce';
  readonly auth: boolean;
  readonly useDomain: boolean;

  constructor(options: WorldOptions) {
    this.auth = options.auth;
    this.useDomain = options.useDomain;
  }

  async start(): Promise<void> {
    this.registrar = await startKamailio({ config: 'registrar', ctl: true, auth: this.auth, useDomain: this.useDomain });
    for (const strict of [false, true]) {
      const policy: NonNullable<Parameters<typeof startTestSidecar>[0]['policy']> = {
        unknownNumbers: strict ? 'reject' : 'allow',
        ...(this.useDomain ? { useDomain: true, servedDomains: SERVED } : {}),
      };
      this.sidecars.set(strict, await startTestSidecar({ upstream: { port: this.registrar.port }, listen: ['udp', 'tcp', 'ws'], policy, projects: PROJECTS }));
    }
    const direct = await RawSipClient.open('udp', this.target);
    try {
      if (this.auth) this.nonce = await fetchNonce(direct, this.target);
      for (const callee of CALLEES) {
        const phone = await CalleePhone.open();
        this.phones.set(callee, phone);
        const answer = await registerDirect(direct, callee, phone.port, this.nonce);
        if (answer?.status !== 200) throw new Error(`registering callee ${callee} on Kamailio: ${answer?.status ?? 'no answer'}`);
      }
    } finally {
      await direct.close();
    }
  }

  get target(): string {
    return `${this.registrar?.host ?? ''}:${this.registrar?.port ?? 0}`;
  }

  get ctl(): string {
    const socket = this.registrar?.ctlSocket;
    if (!socket) throw new Error('the registrar has no ctl socket');
    return socket;
  }

  sidecar(strict: boolean): TestSidecar {
    const sw = this.sidecars.get(strict);
    if (!sw) throw new Error('the sidecar did not start');
    return sw;
  }

  async client(strict: boolean, transport: RawTransport): Promise<RawSipClient> {
    const key = `${strict}-${transport}`;
    let client = this.clients.get(key);
    if (!client) {
      const sw = this.sidecar(strict);
      client = await RawSipClient.open(transport, transport === 'ws' ? sw.wsUrl : transport === 'tcp' ? sw.tcp : sw.udp);
      this.clients.set(key, client);
    }
    return client;
  }

  options(strict: boolean): PolicyOptions {
    return this.sidecar(strict).config.policy;
  }

  /** Leaves only the callees' bindings, so each case starts from the same table. */
  async clearClientBindings(): Promise<void> {
    for (const aor of await this.clientAors()) await removeAor(this.ctl, aor);
  }

  /** AoRs in the location table other than the callees' (`user@domain` with use_domain). */
  async clientAors(): Promise<string[]> {
    return (await boundAors(this.ctl)).filter((aor) => !CALLEES.includes(this.useDomain ? aor.replace(/@127\.0\.0\.1$/, '') : aor));
  }

  /**
   * The number a bound AoR is for this sidecar: the AoR itself when the registrar ignores domains;
   * with use_domain, its user part when its domain is served (compared as the registrar does:
   * lower case, nothing else folded), else undefined — another domain's account, not licensed here.
   */
  numberOf(aor: string): string | null | undefined {
    if (!this.useDomain) return aor || null;
    const at = aor.lastIndexOf('@');
    const domain = at < 0 ? '' : aor.slice(at + 1);
    if (!SERVED.includes(lower(domain).replace(/^\[(.*)\]$/, '$1'))) return undefined;
    return at <= 0 ? null : aor.slice(0, at);
  }

  async register(c: RegisterCase): Promise<Outcome> {
    const client = await this.client(c.strict, c.transport);
    const { text, callId } = renderRegister(c, { transport: client.viaTransport, sentBy: client.sentBy }, this.nonce);
    const answer = await client.request(text, callId, ANSWER_MS);
    const bound = await this.clientAors();
    for (const aor of bound) await removeAor(this.ctl, aor);
    const snapshot = this.sidecar(c.strict).sidecar.live.current;
    const options = this.options(c.strict);
    const now = Date.now();
    const authUser = this.auth && answer?.status === 200 ? authenticatedUser('REGISTER', c.credentials) : null;
    let violation: string | null = null;
    for (const aor of bound) {
      const number = this.numberOf(aor);
      if (number === undefined) continue;
      const acted = authUser === null ? [number] : [number, lower(authUser)];
      violation ??= violationOf(acted, (identity) => evaluateRegister({ identity, isDeregister: false, isMobileApp: false, installId: null }, snapshot, now, options), snapshot);
    }
    return { answer, bound, reached: [], violation, request: text };
  }

  async invite(c: InviteCase): Promise<Outcome> {
    const client = await this.client(c.strict, c.transport);
    const { text, callId } = renderInvite(c, { transport: client.viaTransport, sentBy: client.sentBy }, this.nonce);
    const answer = await client.request(text, callId, ANSWER_MS);
    if (answer !== null) client.send(ackFor(text, answer));
    const snapshot = this.sidecar(c.strict).sidecar.live.current;
    const options = this.options(c.strict);
    const now = Date.now();
    const authUser = this.auth ? authenticatedUser('INVITE', c.credentials) : null;
    const reached: { callee: string; from: string }[] = [];
    let violation: string | null = null;
    for (const [callee, phone] of this.phones) {
      // This call's INVITE (retransmissions of an earlier call may still arrive), once.
      const mine = phone.invites.filter((received) => received.includes(callId));
      for (const received of mine.slice(0, 1)) {
        const from = /^X-Kam-From: ?(.*)$/m.exec(received)?.[1]?.trim() ?? '';
        reached.push({ callee, from });
        const acted = authUser === null ? [from || null] : [from || null, lower(authUser)];
        violation ??= violationOf(acted, (identity) => evaluateInvite({ identity, callee, isMobileApp: false, installId: null }, snapshot, now, options), snapshot);
      }
    }
    return { answer, bound: [], reached, violation, request: text };
  }

  async stop(): Promise<void> {
    for (const c of this.clients.values()) await c.close().catch(() => undefined);
    for (const p of this.phones.values()) await p.close();
    for (const sw of this.sidecars.values()) await sw.close();
    await this.registrar?.stop();
  }
}

/** A 401 from Kamailio for a REGISTER without credentials: its nonce serves every later request (no one-time nonces). */
async function fetchNonce(client: RawSipClient, target: string): Promise<string> {
  const callId = `${token()}@nonce`;
  const answer = await client.request(
    sipRequest(`REGISTER sip:127.0.0.1 SIP/2.0`, [
      `Via: SIP/2.0/UDP ${client.sentBy};rport;branch=z9hG4bK${token()}`,
      'Max-Forwards: 70',
      `From: <sip:9999@127.0.0.1>;tag=${token()}`,
      'To: <sip:9999@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 REGISTER',
    ]),
    callId,
    ANSWER_MS,
  );
  const nonce = /nonce="([^"]+)"/.exec(answer?.header('www-authenticate') ?? '')?.[1];
  if (answer?.status !== 401 || nonce === undefined) throw new Error(`no digest challenge from ${target}: ${answer?.status ?? 'no answer'}`);
  return nonce;
}

/** A callee's phone registers straight on Kamailio (as a door panel or phone on the SIP server itself would). */
function registerDirect(client: RawSipClient, number: string, port: number, nonce: string): Promise<RawAnswer | null> {
  const c = registerCase({ number, credentials: [credential('Authorization', number)] });
  const { text, callId } = renderRegister(c, { transport: 'UDP', sentBy: client.sentBy }, nonce);
  return client.request(text.replace(`<sip:${number}@127.0.0.1:5990>`, `<sip:${number}@127.0.0.1:${port}>`), callId, ANSWER_MS);
}

function describeOutcome(o: Outcome): string {
  return `${o.violation ?? 'no violation'}\nanswer: ${o.answer?.text.split('\r\n')[0] ?? 'none'} ${o.answer?.header('x-sipwarden-reason') ?? ''}\nbound: ${JSON.stringify(o.bound)}\nreached: ${JSON.stringify(o.reached)}\n--- request ---\n${o.request}`;
}

describe.skipIf(missing !== undefined)(`identity read as Kamailio reads it, judged by Kamailio's location table${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  describe.each([
    { auth: false, mode: 'without authentication' },
    { auth: true, mode: 'with digest authentication' },
  ])('registrar $mode', ({ auth }) => {
    const world = new World({ auth, useDomain: false });
    beforeAll(() => world.start(), 30_000);
    afterAll(() => world.stop());

    const creds = (header: CredentialSpec['header'], number: string): readonly CredentialSpec[] => (auth ? [credential(header, number)] : []);
    const reg = (o: Partial<RegisterCase>): RegisterCase => registerCase({ credentials: creds('Authorization', o.number ?? '1001'), ...o });
    const inv = (o: Partial<InviteCase>): InviteCase => inviteCase({ credentials: creds('Proxy-Authorization', o.caller ?? '1001'), ...o });

    async function expectRefused(c: RegisterCase | InviteCase, reason: string): Promise<void> {
      const o = c.kind === 'register' ? await world.register(c) : await world.invite(c);
      expect(o.violation, describeOutcome(o)).toBeNull();
      expect(o.answer?.status, describeOutcome(o)).toBe(403);
      expect(o.answer?.header('x-sipwarden-reason'), describeOutcome(o)).toBe(reason);
      expect(o.bound, describeOutcome(o)).toEqual([]);
      expect(o.reached, describeOutcome(o)).toEqual([]);
    }

    describe('controls: the harness sees what Kamailio binds and routes', () => {
      it('a licensed REGISTER is bound', async () => {
        const o = await world.register(reg({}));
        expect(o.answer?.status, describeOutcome(o)).toBe(200);
        expect(o.bound, describeOutcome(o)).toEqual(['1001']);
      });

      it('a true de-REGISTER of an expired number is passed (RFC 3261 §10.2.2) and binds nothing', async () => {
        for (const o of [await world.register(reg({ number: '5001', expires: ['0'] })), await world.register(reg({ number: '5001', contacts: null, expires: ['0'] }))]) {
          expect(o.answer?.status, describeOutcome(o)).toBe(200);
          expect(o.bound, describeOutcome(o)).toEqual([]);
        }
      });

      it('a licensed call reaches the callee registered on Kamailio, and Kamailio reports the caller', async () => {
        const o = await world.invite(inv({}));
        expect(o.reached, describeOutcome(o)).toEqual([{ callee: '1002', from: '1001' }]);
        expect(o.answer?.status, describeOutcome(o)).toBe(480);
      });

      it('the oracle flags an expired AoR bound behind the sidecar (registered straight on Kamailio)', async () => {
        // Straight to Kamailio, as a client that bypassed the sidecar: the table shows 5001.
        const direct = await RawSipClient.open('udp', world.target);
        try {
          const c = reg({ number: '5001' });
          const { text, callId } = renderRegister(c, { transport: 'UDP', sentBy: direct.sentBy }, world.nonce);
          expect((await direct.request(text, callId, ANSWER_MS))?.status).toBe(200);
          expect(await boundAors(world.ctl)).toContain('5001');
          const snapshot = world.sidecar(false).sidecar.live.current;
          const verdict = violationOf(['5001'], (identity) => evaluateRegister({ identity, isDeregister: false, isMobileApp: false, installId: null }, snapshot, Date.now(), world.options(false)), snapshot);
          expect(verdict).toContain('license-expired');
        } finally {
          await direct.close();
          await world.clearClientBindings();
        }
      });
    });

    describe('hole 1: methods in any case', () => {
      it.each(['udp', 'tcp', 'ws'] as const)('register / Register over %s are gated', async (transport) => {
        await expectRefused(reg({ transport, method: 'register', number: '5001' }), 'license-expired');
        await expectRefused(reg({ transport, method: 'Register', number: '5001' }), 'license-expired');
      });

      it('strict mode refuses an unknown number whatever the method case', async () => {
        await expectRefused(reg({ strict: true, method: 'rEgIsTeR', number: '9001' }), 'unknown-number');
        await expectRefused(inv({ strict: true, method: 'invite', caller: '9001' }), 'unknown-number');
      });

      it('invite / Invite from an expired number are gated', async () => {
        await expectRefused(inv({ method: 'invite', caller: '5001' }), 'license-expired');
        await expectRefused(inv({ transport: 'tcp', method: 'Invite', caller: '5001' }), 'license-expired');
      });

      it('a CSeq method in another case is the same method (the gate still decides)', async () => {
        await expectRefused(reg({ method: 'REGISTER', cseqMethod: 'register', number: '5001' }), 'license-expired');
      });
    });

    describe('hole 2: no de-REGISTER disguise', () => {
      it.each(['abc', '"3600"', '3600x', '-1', '0;expires=3600', '', '"0"'])('Contact expires=%s beside Expires: 0 is an ordinary REGISTER', async (value) => {
        await expectRefused(reg({ number: '5001', contacts: [`;expires=${value}`], expires: ['0'] }), 'license-expired');
      });

      it('a malformed or repeated Expires header beside a Contact without expires is an ordinary REGISTER', async () => {
        for (const expires of [['0 junk'], ['00000000000'], ['0', '3600'], ['0, 3600']]) {
          const o = await world.register(reg({ number: '5001', expires }));
          expect(o.violation, describeOutcome(o)).toBeNull();
          expect(o.bound, describeOutcome(o)).toEqual([]);
        }
      });

      it('one removed binding beside one kept is an ordinary REGISTER', async () => {
        await expectRefused(reg({ number: '5001', contacts: [';expires=0', ';expires=3600'], contactsOnOneLine: true }), 'license-expired');
      });
    });

    describe('hole 3: user-part parameters', () => {
      it.each(['phone-isub', 'phone-context', 'phone-last'] as const)('To %s is the number Kamailio binds', async (userForm) => {
        await expectRefused(reg({ number: '5001', userForm }), 'license-expired');
      });

      it('From and Request-URI user parameters are read the same way', async () => {
        await expectRefused(inv({ caller: '5001', callerForm: 'phone-isub' }), 'license-expired');
        await expectRefused(inv({ callee: '5002', calleeForm: 'phone-isub' }), 'callee-license-expired');
      });
    });

    describe('hole 4: every identity, credentials read as Kamailio reads them', () => {
      it('a repeated username parameter is refused', async () => {
        await expectRefused(reg({ number: '5001', credentials: [credential('Authorization', '2001', '5001')] }), 'ambiguous-identity');
      });

      it('a digest user of an unrestricted project does not carry an expired To', async () => {
        await expectRefused(reg({ number: '5001', credentials: [credential('Authorization', '2001')] }), 'ambiguous-identity');
      });

      it('a decoy Authorization beside the Proxy-Authorization of an expired caller', async () => {
        await expectRefused(
          inv({ caller: '5001', credentials: [credential('Authorization', '2001'), credential('Proxy-Authorization', '5001')] }),
          'ambiguous-identity',
        );
      });
    });

    describe('hole 5: case of alphanumeric numbers', () => {
      it.each(['upper', 'mixed', 'escaped'] as const)('To lobby written %s is the expired lobby', async (userForm) => {
        await expectRefused(reg({ number: 'lobby', userForm }), 'license-expired');
      });

      it('a caller and a callee in upper case', async () => {
        await expectRefused(inv({ caller: 'lobby', callerForm: 'upper' }), 'license-expired');
        await expectRefused(inv({ callee: 'gate', calleeForm: 'upper' }), 'callee-license-expired');
      });
    });

    describe('hole 6: domains are ignored as the registrar ignores them (use_domain 0)', () => {
      it.each(['127.0.0.2', '127.0.0.1.', '[::ffff:127.0.0.1]', 'Intercom.Example'])('5001@%s is enforced', async (domain) => {
        await expectRefused(reg({ number: '5001', domain }), 'license-expired');
      });
    });

    it(`generated REGISTERs never bind what the policy refuses (${REGISTER_RUNS} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(registerCaseArb(CLIENT_NUMBERS), async (c) => {
          const t0 = performance.now();
          const o = await world.register(c);
          if (process.env['DIFF_DEBUG']) console.log('REGISTER', c.strict, o.answer?.status, o.answer?.header('x-sipwarden-reason'), JSON.stringify(o.bound), Math.round(performance.now() - t0));
          expect(o.violation, describeOutcome(o)).toBeNull();
        }),
        { numRuns: REGISTER_RUNS },
      );
    }, 120_000);

    it(`generated INVITEs never reach a callee for a call the policy refuses (${INVITE_RUNS} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(inviteCaseArb(CLIENT_NUMBERS, CALLEES), async (c) => {
          const o = await world.invite(c);
          if (process.env['DIFF_DEBUG']) console.log('INVITE', c.strict, o.answer?.status, o.answer?.header('x-sipwarden-reason'), JSON.stringify(o.reached));
          expect(o.violation, describeOutcome(o)).toBeNull();
        }),
        { numRuns: INVITE_RUNS },
      );
    }, 120_000);
  });

  describe('registrar keeping domains apart (use_domain 1), sidecar told so, serving 127.0.0.1 and intercom.example', () => {
    const world = new World({ auth: false, useDomain: true });
    beforeAll(() => world.start(), 30_000);
    afterAll(() => world.stop());

    const reg = (number: string, domain: string): RegisterCase => registerCase({ number, domain });

    it.each(['127.0.0.1', 'Intercom.Example', 'INTERCOM.EXAMPLE'])('5001@%s is a served domain: refused', async (domain) => {
      const o = await world.register(reg('5001', domain));
      expect(o.answer?.header('x-sipwarden-reason'), describeOutcome(o)).toBe('license-expired');
      expect(o.bound, describeOutcome(o)).toEqual([]);
    });

    it.each([
      ['127.0.0.2', '5001@127.0.0.2'],
      ['127.0.0.1.', '5001@127.0.0.1.'],
      ['[::ffff:127.0.0.1]', '5001@[::ffff:127.0.0.1]'],
      ['intercom.example.', '5001@intercom.example.'],
    ])('5001@%s is another account to the registrar: passed, bound as %s, never as 5001', async (domain, aor) => {
      const o = await world.register(reg('5001', domain));
      expect(o.violation, describeOutcome(o)).toBeNull();
      expect(o.answer?.status, describeOutcome(o)).toBe(200);
      expect(o.bound, describeOutcome(o)).toEqual([aor]);
    });

    it('generated REGISTERs never bind what the policy refuses (30 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(registerCaseArb(CLIENT_NUMBERS), async (c) => {
          const o = await world.register(c);
          expect(o.violation, describeOutcome(o)).toBeNull();
        }),
        { numRuns: 30 },
      );
    }, 120_000);
  });
});
