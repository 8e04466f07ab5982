import { startEmbeddedProxy, type EmbeddedProxy, type EmbeddedProxyOptions } from '../../src/sip/proxy/embedded-proxy.js';
import { UdpPeer } from './peers.js';

/** A proxy on loopback with a UDP client and a UDP upstream, all on ports the OS chose. */
export interface Harness {
  readonly proxy: EmbeddedProxy;
  readonly client: UdpPeer;
  readonly upstream: UdpPeer;
  /** The proxy's UDP port. */
  readonly port: number;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<EmbeddedProxyOptions> = {}): Promise<Harness> {
  const client = await UdpPeer.open('client');
  const upstream = await UdpPeer.open('upstream');
  let proxy: EmbeddedProxy;
  try {
    proxy = await startEmbeddedProxy({
      listen: { udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 }, ws: { host: '127.0.0.1', port: 0 } },
      upstream: { host: '127.0.0.1', port: upstream.port, transport: 'udp' },
      // Load shedding reacts to the queueing delay, which a busy test machine also causes: the
      // tests of other behaviour run without it, those of overload-control turn it on.
      overload: { enabled: false },
      ...options,
    });
  } catch (err) {
    await Promise.all([client.close(), upstream.close()]);
    throw err;
  }
  return {
    proxy,
    client,
    upstream,
    port: proxy.addresses.udp?.port ?? 0,
    close: async () => {
      await Promise.all([proxy.close(), client.close(), upstream.close()]);
    },
  };
}

/** The branch parameter of a Via value. */
export function branchOf(via: string | undefined): string | undefined {
  return /;branch=([^;,\s]+)/.exec(via ?? '')?.[1];
}
