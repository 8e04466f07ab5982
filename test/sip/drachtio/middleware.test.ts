import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Enforcer } from '../../../src/sip/enforcement/enforcer.js';
import type { DrachtioRequest, DrachtioResponse } from '../../../src/sip/drachtio/drachtio-types.js';
import { sipwardenMiddleware } from '../../../src/sip/drachtio/middleware.js';
import { findInstalls } from '../../../src/store/app-installs.js';
import { DAY, T0 } from '../../store/temp-db.js';
import { InProcessAgent, Srf, type SentResponse } from './drachtio-harness.js';
import { appContact, invite, register, World } from './world.js';

/** Runs the middleware on one request the way drachtio-srf delivers it; records next() and the wire. */
async function run(enforcer: Enforcer, raw: string, world: World) {
  const mw = sipwardenMiddleware(enforcer, { logger: world.logger });
  let nextCalls = 0;
  const agent = new InProcessAgent((req, res) => mw(req, res, () => nextCalls++));
  agent.deliver(raw);
  // A new install's claim is answered once the store wrote it.
  for (let waited = 0; nextCalls === 0 && agent.sent.length === 0 && waited < 5000; waited += 5) await sleep(5);
  // Refused installs are recorded lazily: let them reach the store before the test reads it.
  await world.ledger.flush();
  return { nextCalls, sent: agent.sent };
}

function header(sent: SentResponse | undefined, name: string): string | undefined {
  return sent?.message.get(name);
}

describe('sipwardenMiddleware with drachtio-srf Request/Response objects', () => {
  let world: World;

  beforeEach(async () => {
    world = await World.open();
  });
  afterEach(() => world.close());

  it('calls next() for a licensed REGISTER and answers nothing', async () => {
    const { nextCalls, sent } = await run(world.enforcer(), register(), world);
    expect(nextCalls).toBe(1);
    expect(sent).toEqual([]);
  });

  it('answers an expired licence with 403, Warning 399 and X-Sipwarden-Reason, without next()', async () => {
    world.now = T0 + 31 * DAY;
    const { nextCalls, sent } = await run(world.enforcer(), register(), world);
    expect(nextCalls).toBe(0);
    expect(sent).toHaveLength(1);
    const reply = sent[0];
    // What drachtio-srf writes to drachtio-server: the response for the request's transaction.
    expect(reply?.leader).toMatch(/^sip\|txn-\d+\|$/);
    expect(reply?.message.status).toBe(403);
    expect(reply?.message.reason).toBe('Forbidden');
    expect(header(reply, 'Warning')).toBe('399 sipwarden.test "License has expired"');
    expect(header(reply, 'X-Sipwarden-Reason')).toBe('license-expired');
    // Copied from the request by drachtio-srf's Response (RFC 3261 §8.2.6.2).
    expect(header(reply, 'Call-ID')).toMatch(/^reg-\d+@127\.0\.0\.1$/);
    expect(world.logs.withMsg('refused').at(-1)).toMatchObject({ method: 'REGISTER', number: '1001', reason: 'license-expired', transport: 'udp', source: 'udp:127.0.0.1:5099' });
  });

  it('passes a de-REGISTER while the licence is expired (RFC 3261 §10.2.2)', async () => {
    world.now = T0 + 31 * DAY;
    expect(await run(world.enforcer(), register({ expires: 0 }), world)).toEqual({ nextCalls: 1, sent: [] });
    expect(await run(world.enforcer(), register({ contact: '*', expires: 0 }), world)).toEqual({ nextCalls: 1, sent: [] });
    expect(await run(world.enforcer(), register({ contact: '<sip:1001@127.0.0.1:5099>;expires=0' }), world)).toEqual({ nextCalls: 1, sent: [] });
  });

  it('refuses a mobile app beyond the app limit with no-mobile-app-license and keeps its push parameters', async () => {
    const enforcer = world.enforcer();
    expect((await run(enforcer, register({ contact: appContact('a') }), world)).nextCalls).toBe(1);
    const second = await run(enforcer, register({ user: '1002', contact: appContact('b', '1002') }), world);
    expect(second.nextCalls).toBe(0);
    expect(second.sent[0]?.message.status).toBe(403);
    expect(header(second.sent[0], 'X-Sipwarden-Reason')).toBe('no-mobile-app-license');
    const [refused] = findInstalls(world.t.db, 'urn:uuid:b');
    expect(refused).toMatchObject({ number: '1002', licensed: false, pnProvider: 'apns', pnPrid: 'b-token', pnParam: 'TEAM.com.example.voip' });
    expect(findInstalls(world.t.db, 'urn:uuid:a')[0]).toMatchObject({ licensed: true });
  });

  it('reads every Contact of a REGISTER with several, comma-separated and on several lines', async () => {
    const enforcer = world.enforcer();
    expect((await run(enforcer, register({ contact: appContact('a') }), world)).nextCalls).toBe(1);
    // The app binding is the second value of the first line; a third binding sits on its own line.
    const contacts = `<sip:1002@127.0.0.1:5098>;expires=600, ${appContact('c', '1002')}`;
    const again = await run(enforcer, register({ user: '1002', contact: contacts, extra: ['Contact: <sip:1002@127.0.0.1:5097>'] }), world);
    expect(header(again.sent[0], 'X-Sipwarden-Reason')).toBe('no-mobile-app-license');
    expect(findInstalls(world.t.db, 'urn:uuid:c')[0]).toMatchObject({ pnPrid: 'c-token', licensed: false });
  });

  it('refuses an INVITE from a number of an expired group, and one to it', async () => {
    const from = await run(world.enforcer(), invite({ from: '2001', to: '1002' }), world);
    expect(from.nextCalls).toBe(0);
    expect(from.sent[0]?.message.status).toBe(403);
    expect(header(from.sent[0], 'X-Sipwarden-Reason')).toBe('license-expired');
    const to = await run(world.enforcer(), invite({ from: '1001', to: '2001' }), world);
    expect(header(to.sent[0], 'X-Sipwarden-Reason')).toBe('callee-license-expired');
  });

  it('lets an INVITE inside a dialog (To tag) through unchecked', async () => {
    const reinvite = await run(world.enforcer(), invite({ from: '2001', to: '1002', toTag: 'callee-tag' }), world);
    expect(reinvite).toEqual({ nextCalls: 1, sent: [] });
    expect(world.logs.lines).toEqual([]);
  });

  it('lets methods other than REGISTER and INVITE through when mounted for every method', async () => {
    expect(await run(world.enforcer(), invite({ from: '2001', method: 'OPTIONS' }), world)).toEqual({ nextCalls: 1, sent: [] });
    expect(await run(world.enforcer(), invite({ from: '2001', method: 'MESSAGE' }), world)).toEqual({ nextCalls: 1, sent: [] });
  });

  it('follows fail-open when enforcement fails: next() and an error log', async () => {
    const broken = world.enforcer({ onInternalError: 'fail-open' }, () => {
      throw new Error('snapshot gone');
    });
    expect(await run(broken, register(), world)).toEqual({ nextCalls: 1, sent: [] });
    expect(world.logs.withMsg('enforcement fault').at(-1)).toMatchObject({ level: 50, onInternalError: 'fail-open', err: { message: 'snapshot gone' } });
  });

  it('follows fail-closed when enforcement fails: 503 with Retry-After, never 403', async () => {
    const broken = world.enforcer({ onInternalError: 'fail-closed' }, () => {
      throw new Error('snapshot gone');
    });
    const { nextCalls, sent } = await run(broken, invite(), world);
    expect(nextCalls).toBe(0);
    expect(sent[0]?.message.status).toBe(503);
    expect(header(sent[0], 'Retry-After')).toBe('5');
    expect(header(sent[0], 'X-Sipwarden-Reason')).toBeUndefined();
  });

  it('never throws into drachtio-srf, even when a later layer does', () => {
    const mw = sipwardenMiddleware(world.enforcer(), { logger: world.logger });
    let thrown: unknown = null;
    const agent = new InProcessAgent((req, res) => {
      try {
        mw(req, res, () => {
          throw new Error('downstream bug');
        });
      } catch (err) {
        thrown = err;
      }
    });
    agent.deliver(register());
    expect(thrown).toBeNull();
    expect(world.logs.withMsg('a later drachtio middleware threw').at(-1)).toMatchObject({ level: 50, err: { message: 'downstream bug' } });
  });

  it('sends no second final response when an earlier middleware already answered', () => {
    world.now = T0 + 31 * DAY;
    const mw = sipwardenMiddleware(world.enforcer(), { logger: world.logger });
    const agent = new InProcessAgent((req, res) => {
      res.send(486, 'Busy Here', { headers: {} });
      mw(req, res, () => undefined);
    });
    agent.deliver(register());
    expect(agent.sent.map((s) => s.message.status)).toEqual([486]);
  });
});

describe('sipwardenMiddleware inside a drachtio-srf application (srf.use and its runner)', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.open();
  });
  afterEach(() => world.close());

  function application(enforcer: Enforcer) {
    const srf = new Srf();
    const reached: string[] = [];
    const mw = sipwardenMiddleware(enforcer, { logger: world.logger });
    const after = (req: DrachtioRequest, res: DrachtioResponse) => {
      reached.push(req.method);
      res.send(200, 'OK', { headers: {} });
    };
    srf.use('register', mw, after);
    srf.use('invite', mw, after);
    return { agent: new InProcessAgent(srf.app), reached };
  }

  it('hands allowed requests to the next layer and answers refused ones itself', () => {
    const { agent, reached } = application(world.enforcer());
    agent.deliver(register());
    agent.deliver(register({ user: '2001' }));
    agent.deliver(invite({ from: '1001', to: '1002' }));
    agent.deliver(invite({ from: '2001', to: '1002' }));
    expect(reached).toEqual(['REGISTER', 'INVITE']);
    expect(agent.sent.map((s) => [s.message.status, s.message.get('X-Sipwarden-Reason') ?? null])).toEqual([
      [200, null],
      [403, 'license-expired'],
      [200, null],
      [403, 'license-expired'],
    ]);
  });

  it('sees the source address, port and transport drachtio-server reports', () => {
    const { agent } = application(world.enforcer());
    agent.deliver(register({ user: '2001' }), { protocol: 'tcp', address: '127.0.0.7', port: 40123 });
    expect(world.logs.withMsg('refused').at(-1)).toMatchObject({ transport: 'tcp', source: 'tcp:127.0.0.7:40123' });
  });
});
