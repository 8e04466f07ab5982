import { networkInterfaces } from 'node:os';

/** One address:port at which the proxy can be reached, for recognising its own URIs and Vias. */
export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The set of host:port pairs that mean "this proxy": the advertised host and every listen
 * address (each local interface address when a listener is bound to a wildcard). Used for the
 * loose-routing checks of RFC 3261 §16.4 and to recognise our Via in responses (§16.7).
 */
export class LocalAddresses {
  readonly #pairs = new Set<string>();

  constructor(endpoints: readonly LocalEndpoint[]) {
    for (const e of endpoints) {
      if (WILDCARDS.has(e.host)) {
        for (const address of interfaceAddresses()) this.#pairs.add(pair(address, e.port));
      } else {
        this.#pairs.add(pair(e.host, e.port));
      }
    }
  }

  /** `host` as found in a URI or Via (IPv6 without brackets); `port` already defaulted. */
  has(host: string, port: number): boolean {
    return this.#pairs.has(pair(host, port));
  }
}

function pair(host: string, port: number): string {
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return `${h.toLowerCase()}|${port}`;
}

function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.push(info.address);
  }
  return out;
}
