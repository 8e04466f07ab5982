import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions } from '../../../src/policy/request-facts.js';
import { Enforcer, type EnforcerOptions } from '../../../src/sip/enforcement/enforcer.js';
import type { Verdict } from '../../../src/sip/proxy/gate.js';
import { parseMessage } from '../../../src/sip/message/parse-message.js';
import { findInstalls } from '../../../src/store/app-installs.js';
import { addGroup } from '../../../src/store/groups.js';
import type { StoreInstallLedger } from '../../../src/store/store-install-ledger.js';
import { setLicenses } from '../../../src/store/license-settings.js';
import { LiveSnapshot } from '../../../src/store/live-snapshot.js';
import { addNumber } from '../../../src/store/numbers.js';
import { addUser } from '../../../src/store/users.js';
import { testLedger } from '../../store/ledger-fixture.js';
import { ctx, DAY, ok, T0, tempDb, type TempDb } from '../../store/temp-db.js';

/** Decision log lines, parsed as an operator's log shipper would. */
class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

interface Msg {
  method?: 'REGISTER' | 'INVITE';
  user?: string;
  to?: string;
  contact?: string;
  expires?: number;
  auth?: string;
  toTag?: string;
  userAgent?: string;
}

let seq = 0;
function message({ method = 'REGISTER', user = '1001', to, contact, expires, auth, userAgent }: Msg) {
  seq++;
  const target = method === 'REGISTER' ? user : (to ?? '2001');
  const lines = [
    `${method} sip:${method === 'REGISTER' ? '' : `${target}@`}intercom.example SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-e${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@intercom.example>;tag=f${seq}`,
    `To: <sip:${target}@intercom.example>`,
    `Call-ID: call-${seq}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: ${contact ?? `<sip:${user}@127.0.0.1:5099>`}`,
    ...(expires === undefined ? [] : [`Expires: ${expires}`]),
    ...(auth ? [`Authorization: ${auth}`] : []),
    ...(userAgent ? [`User-Agent: ${userAgent}`] : []),
    'Content-Length: 0',
  ];
  const parsed = parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  if (!parsed.ok) throw new Error(`test message did not parse: ${parsed.problem}`);
  return parsed.message;
}

const ORIGIN = { transport: 'udp', address: '127.0.0.1', port: 5099 } as const;

/** An INVITE as the SIP server relays it to a client: the Request-URI is the client's Contact by now. */
function relayedInvite(to: string, from = 'door-7'): ReturnType<typeof message> {
  seq++;
  const lines = [
    'INVITE sip:a8f3kq@x7.invalid;transport=ws SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-k' + seq,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d${seq};received=127.0.0.1`,
    'Max-Forwards: 69',
    `From: <sip:${from}@intercom.example>;tag=f${seq}`,
    `To: <sip:${to}@intercom.example>`,
    `Call-ID: relayed-${seq}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${from}@127.0.0.1:5070>`,
    'Content-Length: 0',
  ];
  const parsed = parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  if (!parsed.ok) throw new Error(`test message did not parse: ${parsed.problem}`);
  return parsed.message;
}

const CLIENT_FLOW = { transport: 'ws', address: '127.0.0.1', port: 40123 } as const;
const FROM_UPSTREAM = { transport: 'udp', address: '127.0.0.1', port: 5080, leg: 'from-upstream', clientFlow: CLIENT_FLOW } as const;
const app = (instance: string) =>
  `<sip:1001@127.0.0.1:5099;pn-provider=apns;pn-prid=${instance}-token;pn-param=TEAM.com.example.voip>;+sip.instance="<urn:uuid:${instance}>"`;

describe('Enforcer on a real database with parsed SIP messages', () => {
  let t: TempDb;
  let live: LiveSnapshot;
  let ledger: StoreInstallLedger;
  let logs: LogLines;
  let now = T0 + DAY;

  function enforcer(policy: Partial<PolicyOptions> = {}, extra: Partial<EnforcerOptions> = {}): Enforcer {
    return new Enforcer(
      { snapshot: () => live.current, installs: ledger, clock: () => now, logger: pino({ level: 'debug' }, logs) },
      {
        policy: { ...DEFAULT_POLICY_OPTIONS, ...policy },
        detection: { userAgent: null },
        useDomain: false,
        servedDomains: [],
        onInternalError: 'fail-open',
        warnAgent: 'sipwarden.test',
        ...extra,
      },
    );
  }

  function refusedWith(v: Verdict): string | undefined {
    if (v.action !== 'reply') return undefined;
    return v.headers.find(([name]) => name === 'X-Sipwarden-Reason')?.[1];
  }

  beforeEach(async () => {
    now = T0 + DAY;
    t = tempDb('sipwarden-enforcer-');
    ok(addGroup(t.db, { name: 'Sunrise' }, ctx));
    ok(setLicenses(t.db, 'Sunrise', { restrictions: true, virtualNumbers: 3, mobileApps: 2, validity: true, validFrom: T0, validUntil: T0 + 30 * DAY }, ctx));
    ok(addUser(t.db, { login: 'alice', group: 'Sunrise' }, ctx));
    for (const n of ['1001', '1002', '1003']) ok(addNumber(t.db, { number: n, login: 'alice' }, ctx));
    ok(addGroup(t.db, { name: 'Closed' }, ctx));
    ok(setLicenses(t.db, 'Closed', { restrictions: true, virtualNumbers: 5, mobileApps: 0, validity: true, validFrom: T0, validUntil: T0 + DAY / 2 }, ctx));
    ok(addUser(t.db, { login: 'bob', group: 'Closed' }, ctx));
    ok(addNumber(t.db, { number: '2001', login: 'bob' }, ctx));
    live = new LiveSnapshot(t.db, { intervalMs: 50 });
    ledger = (await testLedger(t.path, live)).ledger;
    logs = new LogLines();
  });

  afterEach(async () => {
    await ledger.close();
    live.stop();
    t.close();
  });

  it('forwards a licensed REGISTER and logs the allow at debug with the call-id', async () => {
    expect(await enforcer().decide(message({}), ORIGIN)).toEqual({ action: 'forward' });
    const line = logs.lines.at(-1);
    expect(line).toMatchObject({ level: 20, decision: 'allow', reason: 'licensed', number: '1001', group: 'Sunrise', method: 'REGISTER', transport: 'udp', source: 'udp:127.0.0.1:5099' });
    expect(line?.callId).toMatch(/^call-\d+@127\.0\.0\.1$/);
    expect(typeof line?.us).toBe('number');
  });

  it('writes at most refusalLinesPerSecond refusal lines under a flood, and counts every refusal it leaves out', async () => {
    now = T0 + 31 * DAY;
    const e = enforcer({}, { refusalLinesPerSecond: 10 });
    const started = Date.now();
    for (let i = 0; i < 1000; i++) expect(refusedWith(await e.decide(message({}), ORIGIN))).toBe('license-expired');
    const seconds = Math.ceil((Date.now() - started) / 1000);
    // The count of what was left out comes in a line of its own within a second.
    for (let i = 0; i < 100 && !logs.lines.some((l) => l.msg === 'refusals not logged one by one (log rate limit)'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refused = logs.lines.filter((l) => l.msg === 'refused');
    const counted = logs.lines.reduce((sum, l) => sum + (typeof l.suppressed === 'number' ? l.suppressed : 0), 0);
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(refused.length).toBeLessThanOrEqual(10 * seconds);
    expect(refused.length + counted).toBe(1000);
  });

  it('refuses an expired group with 403, Warning 399 and the reason header, logged at info', async () => {
    now = T0 + 31 * DAY;
    const v = await enforcer().decide(message({}), ORIGIN);
    expect(v).toMatchObject({ action: 'reply', status: 403, reason: 'Forbidden' });
    expect(refusedWith(v)).toBe('license-expired');
    if (v.action === 'reply') expect(v.headers).toContainEqual(['Warning', '399 sipwarden.test "License has expired"']);
    expect(logs.lines.at(-1)).toMatchObject({ level: 30, decision: 'deny', reason: 'license-expired', msg: 'refused' });
  });

  it('passes a de-REGISTER of an expired group (RFC 3261 §10.2.2)', async () => {
    now = T0 + 31 * DAY;
    expect(await enforcer().decide(message({ expires: 0 }), ORIGIN)).toEqual({ action: 'forward' });
    expect(await enforcer().decide(message({ contact: '*', expires: 0 }), ORIGIN)).toEqual({ action: 'forward' });
  });

  it('decides on the To AoR and on every digest user, and never logs the digest response', async () => {
    const auth = (user: string) => `Digest username="${user}", realm="intercom.example", nonce="n", uri="sip:intercom.example", response="deadbeefcafe"`;
    // The digest user names an expired number, To a licensed one: they disagree about a restricted number.
    expect(refusedWith(await enforcer().decide(message({ user: '1001', auth: auth('2001') }), ORIGIN))).toBe('ambiguous-identity');
    expect(logs.lines.at(-1)).toMatchObject({ number: '1001', reason: 'ambiguous-identity' });
    // Both name the expired number: refused for what it is.
    expect(refusedWith(await enforcer().decide(message({ user: '2001', auth: auth('2001') }), ORIGIN))).toBe('license-expired');
    expect(logs.lines.at(-1)).toMatchObject({ number: '2001', group: 'Closed' });
    // A repeated username parameter cannot be read unambiguously.
    const twice = 'Digest username="1001", username="2001", realm="intercom.example", nonce="n", response="deadbeefcafe"';
    expect(refusedWith(await enforcer().decide(message({ user: '1001', auth: twice }), ORIGIN))).toBe('ambiguous-identity');
    expect(await enforcer().decide(message({ user: '1001', auth: auth('1001') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(JSON.stringify(logs.lines)).not.toContain('deadbeefcafe');
  });

  it('unknown numbers pass by default and are refused in strict mode', async () => {
    expect(await enforcer().decide(message({ user: '9999' }), ORIGIN)).toEqual({ action: 'forward' });
    expect(refusedWith(await enforcer({ unknownNumbers: 'reject' }).decide(message({ user: '9999' }), ORIGIN))).toBe('unknown-number');
  });

  it('counts mobile-app installs: the third distinct instance is refused, a refresh of the first passes', async () => {
    const e = enforcer();
    expect(await e.decide(message({ contact: app('a') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(await e.decide(message({ contact: app('b') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(refusedWith(await e.decide(message({ contact: app('c') }), ORIGIN))).toBe('no-mobile-app-license');
    expect(await e.decide(message({ contact: app('a') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(findInstalls(t.db, 'urn:uuid:a')[0]).toMatchObject({ licensed: true, pnProvider: 'apns', pnPrid: 'a-token' });
    // The refused install is kept with its push parameters, for the renewal push (written lazily).
    await ledger.flush();
    expect(findInstalls(t.db, 'urn:uuid:c')[0]).toMatchObject({ licensed: false, pnProvider: 'apns', pnPrid: 'c-token', pnParam: 'TEAM.com.example.voip' });
  });

  it('shadow mode: the app beyond the limit is forwarded without a licence, logged as would-refuse, its push parameters kept', async () => {
    const e = enforcer({}, { mode: 'shadow' });
    expect(await e.decide(message({ contact: app('a') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(await e.decide(message({ contact: app('b') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(await e.decide(message({ contact: app('c') }), ORIGIN)).toEqual({ action: 'forward' });
    expect(logs.lines.at(-1)).toMatchObject({
      msg: 'would refuse',
      decision: 'would-refuse',
      reason: 'no-mobile-app-license',
      install: 'urn:uuid:c',
      mode: { mode: 'shadow', source: 'policy' },
    });
    await ledger.flush();
    // Forwarded, but not licensed: the count stays at the limit of 2.
    expect(findInstalls(t.db, 'urn:uuid:c')[0]).toMatchObject({ licensed: false, pnPrid: 'c-token' });
    expect(live.current.group(live.index.number('1001')?.rootId ?? -1)?.appsUsed).toBe(2);
    // An INVITE to a closed project's number is forwarded too, the callee's project deciding the mode.
    expect(await e.decide(message({ method: 'INVITE', user: '1001', to: '2001' }), ORIGIN)).toEqual({ action: 'forward' });
    expect(logs.lines.at(-1)).toMatchObject({ msg: 'would refuse', reason: 'callee-license-expired' });
  });

  it("a project's own enforcement wins over policy.mode, both ways (set by another connection, as the CLI does)", async () => {
    const { openDatabase } = await import('../../../src/store/database.js');
    const cli = openDatabase(t.path);
    try {
      ok(setLicenses(cli, 'Closed', { enforcement: 'shadow' }, ctx));
      expect(live.refresh()?.changed.length).toBe(1);
      // Caller 1001 is in Sunrise (enforce by policy.mode), callee 2001 in Closed (shadow): the callee's project decides.
      expect(await enforcer().decide(message({ method: 'INVITE', user: '1001', to: '2001' }), ORIGIN)).toEqual({ action: 'forward' });
      expect(await enforcer().decide(message({ method: 'INVITE', user: '2001', to: '1001' }), ORIGIN)).toEqual({ action: 'forward' });
      ok(setLicenses(cli, 'Closed', { enforcement: 'enforce' }, ctx));
      expect(live.refresh()?.changed.length).toBe(1);
      expect(refusedWith(await enforcer({}, { mode: 'shadow' }).decide(message({ user: '2001' }), ORIGIN))).toBe('license-expired');
    } finally {
      cli.close();
    }
  });

  it('stores push parameters of an app refused while the licence is expired', async () => {
    now = T0 + 31 * DAY;
    expect(refusedWith(await enforcer().decide(message({ contact: app('late') }), ORIGIN))).toBe('license-expired');
    await ledger.flush();
    expect(findInstalls(t.db, 'urn:uuid:late')[0]).toMatchObject({ licensed: false, pnPrid: 'late-token' });
  });

  it('recognises the app by a configured User-Agent pattern and identifies it by Contact URI', async () => {
    const e = enforcer({}, { detection: { userAgent: /^IntercomApp\// } });
    expect(await e.decide(message({ userAgent: 'IntercomApp/3.1' }), ORIGIN)).toEqual({ action: 'forward' });
    expect(findInstalls(t.db, 'sip:1001@127.0.0.1:5099')[0]).toMatchObject({ licensed: true });
  });

  it('writes every decision line the same way: source, number and group, callee and its group, install', async () => {
    now = T0 + 31 * DAY;
    await enforcer().decide(message({ contact: '*', expires: 0 }), ORIGIN);
    // A de-REGISTER line names the number's group.
    expect(logs.lines.at(-1)).toMatchObject({ decision: 'allow', reason: 'deregister', number: '1001', group: 'Sunrise', source: 'udp:127.0.0.1:5099' });
    now = T0 + DAY;
    await enforcer().decide(message({ method: 'INVITE', user: '1001', to: '2001' }), { transport: 'tcp', address: '::1', port: 5098 });
    // A callee refusal names the callee and its group; number and group stay the caller's.
    expect(logs.lines.at(-1)).toMatchObject({
      reason: 'callee-license-expired',
      number: '1001',
      group: 'Sunrise',
      callee: '2001',
      calleeGroup: 'Closed',
      source: 'tcp:[::1]:5098',
    });
    // An app decision names the install.
    await enforcer().decide(message({ contact: app('named') }), ORIGIN);
    expect(logs.lines.at(-1)).toMatchObject({ reason: 'install-new', number: '1001', install: 'urn:uuid:named' });
    for (const line of logs.lines.filter((l) => l['decision'] !== undefined)) expect(line['source']).toMatch(/^(udp|tcp):/);
  });

  it('recognises a licensed app by any identifier it registered with; an identifier never carries another install or number', async () => {
    const e = enforcer({}, { detection: { userAgent: /^IntercomApp\// } });
    expect(await e.decide(message({ contact: app('a') }), ORIGIN)).toEqual({ action: 'forward' });
    const push = (token: string) => `pn-provider=apns;pn-prid=${token};pn-param=TEAM.com.example.voip`;
    const call = (user: string, contact: string, userAgent?: string) =>
      e.decide(message({ method: 'INVITE', user, to: '1003', contact, ...(userAgent ? { userAgent } : {}) }), ORIGIN);
    // The issue's case: pn-* without +sip.instance, at another address.
    expect(await call('1001', `<sip:1001@192.0.2.7:40000;${push('a-token')}>`)).toEqual({ action: 'forward' });
    // The Contact URI it registered with, nothing else (recognised by User-Agent as the app).
    expect(await call('1001', `<sip:1001@127.0.0.1:5099;${push('a-token')}>`, 'IntercomApp/3.1')).toEqual({ action: 'forward' });
    expect(await call('1001', app('a'))).toEqual({ action: 'forward' });
    // A public GRUU naming its instance (RFC 5627 §3.1.1), as sip.js calls after Kamailio gave it one.
    expect(await call('1001', '<sip:1001@intercom.example;gr=urn:uuid:a>', 'IntercomApp/3.1')).toEqual({ action: 'forward' });
    // Its registered Contact URI with the RFC 5626 ;ob flag an outbound client adds to dialogs.
    expect(await call('1001', `<sip:1001@127.0.0.1:5099;${push('a-token')};ob>`, 'IntercomApp/3.1')).toEqual({ action: 'forward' });
    // Its token under another +sip.instance is another install, which holds no licence.
    expect(refusedWith(await call('1001', `<sip:1001@127.0.0.1:5099;${push('a-token')}>;+sip.instance="<urn:uuid:z>"`))).toBe('no-mobile-app-license');
    // Its identifiers on another number are not that number's licence.
    expect(refusedWith(await call('1002', `<sip:1002@127.0.0.1:5099;${push('a-token')}>`))).toBe('no-mobile-app-license');
    // A REGISTER with the token alone is the same install: no second licence is taken.
    expect(await e.decide(message({ contact: `<sip:1001@198.51.100.1:5060;${push('a-token')}>` }), ORIGIN)).toEqual({ action: 'forward' });
    expect(findInstalls(t.db, 'urn:uuid:a')).toHaveLength(1);
    expect(t.db.prepare('SELECT COUNT(*) FROM app_installs').pluck().get()).toBe(1);
  });

  describe('each leg checks its own side (issue 9, item 2)', () => {
    it('a call the SIP server relays to a client checks only the callee, from To: an unknown caller passes in strict mode', async () => {
      const strict = enforcer({ unknownNumbers: 'reject' });
      expect(await strict.decide(relayedInvite('1001'), FROM_UPSTREAM)).toEqual({ action: 'forward' });
      expect(refusedWith(await strict.decide(relayedInvite('2001'), FROM_UPSTREAM))).toBe('callee-license-expired');
      expect(logs.lines.at(-1)).toMatchObject({ leg: 'from-upstream', callee: '2001', calleeGroup: 'Closed', number: null, reason: 'callee-license-expired' });
      // The same INVITE from a client: the unknown caller is refused in strict mode, on its own leg.
      expect(refusedWith(await strict.decide(relayedInvite('1001'), ORIGIN))).toBe('unknown-number');
      expect(logs.lines.at(-1)).toMatchObject({ leg: 'from-client', reason: 'unknown-number' });
    });

    it('the callee is the number registered on the flow the call goes to, whatever To says', async () => {
      const e = enforcer();
      now = T0;
      // 2001 registers from the client flow while its project is open.
      expect(await e.decide(message({ user: '2001' }), { ...CLIENT_FLOW, leg: 'from-client' })).toEqual({ action: 'forward' });
      now = T0 + DAY;
      // Its project has closed: a call to it is refused though To names an unknown or another number.
      expect(refusedWith(await e.decide(relayedInvite('9999'), FROM_UPSTREAM))).toBe('callee-license-expired');
      expect(refusedWith(await e.decide(relayedInvite('1001'), FROM_UPSTREAM))).toBe('callee-license-expired');
      expect(logs.lines.at(-1)).toMatchObject({ callee: '2001' });
      // Another flow (a phone with 1001 only) is reached.
      now = T0;
      await e.decide(message({ user: '1001' }), { ...CLIENT_FLOW, port: 40124, leg: 'from-client' });
      now = T0 + DAY;
      expect(await e.decide(relayedInvite('1001'), { ...FROM_UPSTREAM, clientFlow: { ...CLIENT_FLOW, port: 40124 } })).toEqual({ action: 'forward' });
      // A de-REGISTER from the flow forgets the number: To decides again.
      await e.decide(message({ user: '2001', expires: 0 }), { ...CLIENT_FLOW, leg: 'from-client' });
      expect(await e.decide(relayedInvite('9999'), FROM_UPSTREAM)).toEqual({ action: 'forward' });
    });

    it('without remembered flows (drachtio mode, which has no leg from the upstream) a relayed call is decided on To alone', async () => {
      const e = enforcer({}, { rememberFlows: false });
      now = T0;
      expect(await e.decide(message({ user: '2001' }), { ...CLIENT_FLOW, leg: 'from-client' })).toEqual({ action: 'forward' });
      now = T0 + DAY;
      // Remembered, 2001's flow would make this call 2001's, refused (previous test); kept nothing, To names 9999.
      expect(await e.decide(relayedInvite('9999'), FROM_UPSTREAM)).toEqual({ action: 'forward' });
      expect(refusedWith(await e.decide(relayedInvite('2001'), FROM_UPSTREAM))).toBe('callee-license-expired');
    });

    it('a number pushed out of the flow by others registered from it is still checked when To names it', async () => {
      const e = enforcer();
      now = T0;
      await e.decide(message({ user: '2001' }), { ...CLIENT_FLOW, leg: 'from-client' });
      // Eight more numbers (unknown: passed by default) from the same flow: the flow keeps the last eight.
      for (let i = 0; i < 8; i++) await e.decide(message({ user: `880${i}` }), { ...CLIENT_FLOW, leg: 'from-client' });
      now = T0 + DAY;
      expect(refusedWith(await e.decide(relayedInvite('2001'), FROM_UPSTREAM))).toBe('callee-license-expired');
      expect(await e.decide(relayedInvite('8807'), FROM_UPSTREAM)).toEqual({ action: 'forward' });
    });
  });

  it('refuses INVITEs from and to a number of an expired group', async () => {
    const e = enforcer();
    expect(refusedWith(await e.decide(message({ method: 'INVITE', user: '2001', to: '1002' }), ORIGIN))).toBe('license-expired');
    expect(refusedWith(await e.decide(message({ method: 'INVITE', user: '1001', to: '2001' }), ORIGIN))).toBe('callee-license-expired');
    expect(await e.decide(message({ method: 'INVITE', user: '1001', to: '1002' }), ORIGIN)).toEqual({ action: 'forward' });
    expect(await enforcer({ checkCalleeWindow: false }).decide(message({ method: 'INVITE', user: '1001', to: '2001' }), ORIGIN)).toEqual({ action: 'forward' });
  });

  it('leaves other domains alone when the SIP server keeps domains apart and served domains are configured', async () => {
    now = T0 + 31 * DAY;
    const e = enforcer({}, { useDomain: true, servedDomains: ['other.example'] });
    expect(await e.decide(message({}), ORIGIN)).toEqual({ action: 'forward' });
    expect(refusedWith(await enforcer({}, { useDomain: true, servedDomains: ['INTERCOM.example'] }).decide(message({}), ORIGIN))).toBe('license-expired');
  });

  it('enforces every domain when the SIP server ignores domains (use_domain 0)', async () => {
    now = T0 + 31 * DAY;
    // Served domains would name another domain, but a server without use_domain binds 1001 anyway.
    expect(refusedWith(await enforcer({}, { useDomain: false, servedDomains: ['other.example'] }).decide(message({}), ORIGIN))).toBe('license-expired');
  });

  it('sees a limit lowered by another connection after a refresh', async () => {
    const e = enforcer();
    expect(await e.decide(message({ user: '1003' }), ORIGIN)).toEqual({ action: 'forward' });
    const { openDatabase } = await import('../../../src/store/database.js');
    const cli = openDatabase(t.path);
    ok(setLicenses(cli, 'Sunrise', { virtualNumbers: 2, mobileApps: 2 }, ctx));
    cli.close();
    expect(live.refresh()?.changed.length).toBe(1);
    expect(refusedWith(await e.decide(message({ user: '1003' }), ORIGIN))).toBe('virtual-numbers-exceeded');
    expect(await e.decide(message({ user: '1002' }), ORIGIN)).toEqual({ action: 'forward' });
  });

  it('follows fail-open or fail-closed when enforcement itself fails', async () => {
    const broken = (mode: 'fail-open' | 'fail-closed') =>
      new Enforcer(
        { snapshot: () => { throw new Error('snapshot gone'); }, installs: ledger, clock: () => now, logger: pino({ level: 'silent' }) },
        { policy: DEFAULT_POLICY_OPTIONS, detection: { userAgent: null }, useDomain: false, servedDomains: [], onInternalError: mode, warnAgent: 'x' },
      );
    expect(await broken('fail-open').decide(message({}), ORIGIN)).toEqual({ action: 'forward' });
    expect(await broken('fail-closed').decide(message({}), ORIGIN)).toMatchObject({ action: 'reply', status: 503, headers: [['Retry-After', '5']] });
  });
});
