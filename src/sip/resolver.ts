import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

const TTL_MS = 30_000;
const LIMIT = 1024;

/**
 * Host names in Route, Request-URI or Via to IP addresses (A/AAAA through the system resolver;
 * RFC 3263 NAPTR/SRV is not done — the upstream is configured, other hops give IPs in practice).
 * IP literals and cached names resolve synchronously so that the common path allocates no Promise.
 */
export class Resolver {
  readonly #family: 0 | 4 | 6;
  readonly #cache = new Map<string, { readonly address: string; readonly expires: number }>();

  /** `family` 4 or 6 when the sockets are of one family only (a udp4 socket cannot reach ::1). */
  constructor(family: 0 | 4 | 6 = 0) {
    this.#family = family;
  }

  resolve(host: string): string | Promise<string> {
    if (isIP(host) !== 0) return host;
    const cached = this.#cache.get(host);
    if (cached !== undefined && cached.expires > Date.now()) return cached.address;
    return lookup(host, { family: this.#family }).then(({ address }) => {
      if (this.#cache.size >= LIMIT) this.#cache.clear();
      this.#cache.set(host, { address, expires: Date.now() + TTL_MS });
      return address;
    });
  }
}
