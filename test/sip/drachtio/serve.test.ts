import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROXIED_METHODS, startDrachtioServe, type DrachtioServe } from '../../../src/sip/drachtio/drachtio-serve.js';
import { requestUriUser, upstreamUri } from '../../../src/sip/drachtio/upstream-uri.js';
import { Srf } from './drachtio-harness.js';
import { FakeDrachtioServer, type ClientCommand } from './fake-drachtio-server.js';
import { invite, register, World } from './world.js';

const UPSTREAM = { host: '127.0.0.1', port: 5070, transport: 'udp' } as const;
const DESTINATION = 'sip:127.0.0.1:5070;transport=udp';

describe('upstreamUri', () => {
  it('names the upstream with its transport, bracketing IPv6 literals', () => {
    expect(upstreamUri(UPSTREAM)).toBe(DESTINATION);
    expect(upstreamUri({ host: 'registrar.example', port: 5080, transport: 'tcp' })).toBe('sip:registrar.example:5080;transport=tcp');
    expect(upstreamUri({ host: '::1', port: 5060, transport: 'udp' })).toBe('sip:[::1]:5060;transport=udp');
    expect(upstreamUri({ host: '[::1]', port: 5060, transport: 'udp' })).toBe('sip:[::1]:5060;transport=udp');
    expect(upstreamUri(UPSTREAM, '1002')).toBe('sip:1002@127.0.0.1:5070;transport=udp');
  });

  it('takes the user part of a SIP or SIPS Request-URI as written, without its password', () => {
    expect(requestUriUser('sip:1002@127.0.0.1:5060')).toBe('1002');
    expect(requestUriUser('sips:%2B4930;npdi:secret@intercom.example;user=phone')).toBe('%2B4930;npdi');
    expect(requestUriUser('sip:intercom.example')).toBeNull();
    expect(requestUriUser('tel:+4930')).toBeNull();
    expect(requestUriUser('not a uri')).toBeNull();
  });

  it('reads the user part only where an @ ends one: not in parameters or headers, not as an empty user', () => {
    expect(requestUriUser('sip:127.0.0.1:5060;transport=udp;lr')).toBeNull();
    expect(requestUriUser('sip:intercom.example?subject=a%40b')).toBeNull();
    expect(requestUriUser('sip:@intercom.example')).toBeNull();
    expect(requestUriUser('sip:1002:pw@[::1]:5060;transport=tcp?x=y')).toBe('1002');
    expect(requestUriUser('tel:+4930@x')).toBeNull();
  });
});

/**
 * `serve` with drachtio-srf's real client code talking over TCP to a stand-in for drachtio-server
 * (see fake-drachtio-server.ts).
 */
describe('startDrachtioServe against drachtio-server’s wire protocol', () => {
  let world: World;
  let server: FakeDrachtioServer;
  let served: DrachtioServe | undefined;
  let txn = 0;

  beforeEach(async () => {
    world = await World.open();
    server = await FakeDrachtioServer.start({ secret: 's3cret' });
    served = await startDrachtioServe({
      drachtio: { host: '127.0.0.1', port: server.port, secret: 's3cret' },
      upstream: UPSTREAM,
      enforcer: world.enforcer(),
      logger: world.logger,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    await served.whenConnected();
    await server.until(() => routes(0).length === PROXIED_METHODS.length, 'every route');
  });

  afterEach(async () => {
    await served?.close();
    await server.close();
    await world.close();
  });

  const routes = (connection: number) => server.commands.filter((c) => c.connection === connection && c.verb === 'route').map((c) => c.args[0]);

  /** Delivers a request and returns what the client answered for its transaction: a proxy command or a response. */
  async function handle(raw: string): Promise<ClientCommand> {
    const id = `t-${++txn}`;
    server.deliver(raw, id);
    return server.command((c) => (c.verb === 'proxy' || c.verb === 'sip') && c.args[0] === id, `the answer to ${id}`);
  }

  it('authenticates and asks drachtio-server for every out-of-dialog method it proxies', () => {
    expect(server.commands[0]).toMatchObject({ verb: 'authenticate', args: ['s3cret', ''] });
    expect([...routes(0)].sort()).toEqual([...PROXIED_METHODS].sort());
    expect(served?.upstreamUri).toBe(DESTINATION);
    expect(world.logs.withMsg('connected to drachtio-server').at(-1)).toMatchObject({ sipAddresses: 'udp/127.0.0.1:5060', serverVersion: 'v0.9.3-fake' });
  });

  it('proxies an allowed REGISTER to the upstream without Record-Route/Path', async () => {
    const answer = await handle(register());
    expect(answer.verb).toBe('proxy');
    // proxy|<txn>|<remainInDialog>|fullResponse|<followRedirects>|serial|<prov>|<final>|<destinations...>
    expect(answer.args[1]).toBe('');
    expect(answer.args.at(-1)).toBe(DESTINATION);
    expect(answer.body.startsWith(`REGISTER ${DESTINATION} SIP/2.0`)).toBe(true);
  });

  it('record-routes an allowed initial INVITE, so drachtio-server stays in the dialog', async () => {
    const answer = await handle(invite({ from: '1001', to: '1002' }));
    expect(answer.verb).toBe('proxy');
    expect(answer.args[1]).toBe('remainInDialog');
    expect(answer.args.at(-1)).toBe('sip:1002@127.0.0.1:5070;transport=udp');
  });

  it('answers a refused REGISTER itself with 403 and the reason, and proxies nothing', async () => {
    const answer = await handle(register({ user: '2001' }));
    expect(answer.verb).toBe('sip');
    const response = new Srf.SipMessage(answer.body);
    expect(response.status).toBe(403);
    expect(response.get('X-Sipwarden-Reason')).toBe('license-expired');
    expect(response.get('Warning')).toBe('399 sipwarden.test "License has expired"');
    expect(server.commands.filter((c) => c.verb === 'proxy')).toEqual([]);
  });

  it('proxies other out-of-dialog methods unchecked, and an in-dialog INVITE without Record-Route', async () => {
    const options = await handle(invite({ from: '2001', method: 'OPTIONS' }));
    expect([options.verb, options.args[1], options.args.at(-1)]).toEqual(['proxy', '', 'sip:1002@127.0.0.1:5070;transport=udp']);
    const reinvite = await handle(invite({ from: '2001', to: '1002', toTag: 'callee' }));
    expect([reinvite.verb, reinvite.args[1]]).toEqual(['proxy', '']);
  });

  it('keeps the Request-URI user in the destination, for a request addressed to drachtio-server itself', async () => {
    // drachtio-server puts the destination in place of a Request-URI naming itself: with the user
    // part in it the callee survives (the end-to-end suite checks what the upstream receives).
    const call = invite({ from: '1001', to: '1002' }).replace('INVITE sip:1002@intercom.example', 'INVITE sip:1002@127.0.0.1:5060');
    const answer = await handle(call);
    expect([answer.verb, answer.args.at(-1)]).toEqual(['proxy', 'sip:1002@127.0.0.1:5070;transport=udp']);
    const escaped = await handle(invite({ from: '1001', method: 'MESSAGE' }).replace('MESSAGE sip:1002@intercom.example', 'MESSAGE sip:%2B49301002;npdi@127.0.0.1'));
    expect(escaped.args.at(-1)).toBe('sip:%2B49301002;npdi@127.0.0.1:5070;transport=udp');
  });

  it('reconnects after drachtio-server drops the connection and routes its methods again', async () => {
    server.dropConnections();
    await server.until(() => routes(1).length === PROXIED_METHODS.length, 'the routes of a second connection');
    await served?.whenConnected();
    expect(served?.isConnected()).toBe(true);
    expect(world.logs.withMsg('lost the connection to drachtio-server; reconnecting').at(-1)).toMatchObject({ level: 40, attempt: 1, delayMs: 20 });
    const answer = await handle(register());
    expect([answer.connection, answer.verb]).toEqual([1, 'proxy']);
  });

  it('disconnects on close and stops', async () => {
    await served?.close();
    await server.until(() => server.open === 0, 'the client to close its connection');
    expect(served?.isConnected()).toBe(false);
    await expect(served?.whenConnected()).rejects.toThrow(/closed/);
    expect(world.logs.withMsg('drachtio connection closed')).toHaveLength(1);
  });
});
