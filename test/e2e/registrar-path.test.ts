import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, type KamailioHandle, type KamailioPathMode } from '../support/kamailio.js';
import { missingPeers } from '../support/peer-tools.js';
import { nonProvisional, UdpPeer } from '../sip/peers.js';
import { header, headers, request, startLine } from '../sip/messages.js';
import { startTestSidecar, type TestSidecar } from './sidecar-fixture.js';
import { newToken } from './udp-sip-client.js';

/*
 * sip.path (RFC 3327) against a real Kamailio registrar in each of its Path settings: a client
 * that does not send `Supported: path` (linphone, sipsak) registers through the sidecar, then a
 * device registered directly on Kamailio calls it. The registration must succeed wherever the
 * README says it does, and the call must come back through the sidecar when Path was stored.
 */

const missing = missingPeers();
if (missing) console.warn(`\n*** test/e2e/registrar-path.test.ts SKIPPED: ${missing} ***\n`);

type SidecarPath = 'always' | 'supported' | 'never';
const REGISTRAR_MODES: readonly KamailioPathMode[] = [0, 1, 2, 'ignore'];
const SIDECAR_MODES: readonly SidecarPath[] = ['always', 'supported', 'never'];

/** What the README promises for a client without `Supported: path`. */
function expected(sidecar: SidecarPath, registrar: KamailioPathMode): { status: number; throughSidecar: boolean } {
  if (sidecar !== 'always') return { status: 200, throughSidecar: false };
  if (registrar === 2) return { status: 420, throughSidecar: false };
  return { status: 200, throughSidecar: registrar !== 'ignore' };
}

function registerText(number: string, client: UdpPeer, target: string, supported: string | null): string {
  return request({
    method: 'REGISTER',
    uri: `sip:${target}`,
    headers: [
      `Via: SIP/2.0/UDP 127.0.0.1:${client.port};rport;branch=z9hG4bK${newToken()}`,
      'Max-Forwards: 70',
      `From: <sip:${number}@127.0.0.1>;tag=${newToken()}`,
      `To: <sip:${number}@127.0.0.1>`,
      `Call-ID: ${newToken()}@path`,
      'CSeq: 1 REGISTER',
      `Contact: <sip:${number}@127.0.0.1:${client.port}>`,
      'Expires: 600',
      ...(supported === null ? [] : [`Supported: ${supported}`]),
    ],
  });
}

function inviteText(number: string, caller: UdpPeer, registrar: KamailioHandle): string {
  return request({
    method: 'INVITE',
    uri: `sip:${number}@127.0.0.1:${registrar.port}`,
    headers: [
      `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};rport;branch=z9hG4bK${newToken()}`,
      'Max-Forwards: 70',
      `From: <sip:door@127.0.0.1>;tag=${newToken()}`,
      `To: <sip:${number}@127.0.0.1>`,
      `Call-ID: ${newToken()}@path-call`,
      'CSeq: 1 INVITE',
      `Contact: <sip:door@127.0.0.1:${caller.port}>`,
    ],
  });
}

describe.skipIf(missing !== undefined)(`sip.path against Kamailio's registrar path settings${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  const registrars = new Map<KamailioPathMode, KamailioHandle>();
  const sidecars = new Map<string, TestSidecar>();
  const peers: UdpPeer[] = [];
  let number = 6100;

  beforeAll(async () => {
    for (const mode of REGISTRAR_MODES) {
      const registrar = await startKamailio({ config: 'registrar', pathMode: mode });
      registrars.set(mode, registrar);
      for (const path of SIDECAR_MODES) {
        sidecars.set(`${String(mode)}/${path}`, await startTestSidecar({ upstream: { port: registrar.port }, listen: ['udp'], sip: { path } }));
      }
    }
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    for (const sw of sidecars.values()) await sw.close();
    for (const registrar of registrars.values()) await registrar.stop();
  });

  async function peer(name: string): Promise<UdpPeer> {
    const p = await UdpPeer.open(name);
    peers.push(p);
    return p;
  }

  const cases = REGISTRAR_MODES.flatMap((registrar) => SIDECAR_MODES.map((sidecar) => ({ registrar, sidecar, ...expected(sidecar, registrar) })));

  it.each(cases)(
    'registrar path_mode $registrar, sip.path $sidecar: a client without Supported: path gets $status; called through the sidecar: $throughSidecar',
    async ({ registrar: mode, sidecar: path, status, throughSidecar }) => {
      const registrar = registrars.get(mode);
      const sw = sidecars.get(`${String(mode)}/${path}`);
      if (registrar === undefined || sw === undefined) throw new Error('fixture missing');
      const user = String(number++);
      const client = await peer(`client ${user}`);
      const [host, port] = sw.udp.split(':');
      client.send(registerText(user, client, sw.udp, null), Number(port));
      const answer = await nonProvisional(() => client.next());
      expect(startLine(answer.text)).toMatch(new RegExp(`^SIP/2\\.0 ${status} `));
      if (status === 420) {
        // RFC 3327 §5.3: the strict registrar names the extension it refused.
        expect(header(answer.text, 'Unsupported')).toBe('path');
        return;
      }

      const door = await peer(`door calling ${user}`);
      door.send(inviteText(user, door, registrar), registrar.port);
      const invite = await client.next();
      expect(startLine(invite.text)).toMatch(/^INVITE /);
      const top = headers(invite.text, 'Via')[0] ?? '';
      if (throughSidecar) {
        expect(top).toMatch(new RegExp(`^SIP/2\\.0/UDP ${host}:${port};branch=`));
        expect(headers(invite.text, 'Via')).toHaveLength(3);
      } else {
        expect(top).toContain(`127.0.0.1:${registrar.port}`);
        expect(headers(invite.text, 'Via')).toHaveLength(2);
      }
    },
  );

  it('with sip.path "supported", a client that sends Supported: path is registered on a strict registrar and called through the sidecar', async () => {
    const registrar = registrars.get(2);
    const sw = sidecars.get('2/supported');
    if (registrar === undefined || sw === undefined) throw new Error('fixture missing');
    const user = String(number++);
    const client = await peer(`client ${user}`);
    const [host, port] = sw.udp.split(':');
    client.send(registerText(user, client, sw.udp, 'replace, path'), Number(port));
    const answer = await nonProvisional(() => client.next());
    expect(startLine(answer.text)).toBe('SIP/2.0 200 OK');
    // Strict and lazy registrars echo the stored Path to a client that supports it.
    expect(header(answer.text, 'Path')).toMatch(new RegExp(`@${host}:${port};transport=udp;lr>$`));
    const door = await peer('door');
    door.send(inviteText(user, door, registrar), registrar.port);
    const invite = await client.next();
    expect(headers(invite.text, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP ${host}:${port};branch=`));
  });
});
