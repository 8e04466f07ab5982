import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BoundedCache } from './bounded-cache.js';

/** A DNS name is at most 255 octets on the wire (RFC 1035 §2.3.4), 253 characters written out. */
const MAX_NAME_LENGTH = 253;

/**
 * Host names in Route, Request-URI or Via to IP addresses (A/AAAA through the system resolver;
 * RFC 3263 NAPTR/SRV is not done — the upstream is configured, other hops give IPs in practice).
 * IP literals and cached names resolve synchronously so that the common path allocates no Promise.
 */
export class Resolver {
  readonly #family: 0 | 4 | 6;
  readonly #cache = new BoundedCache<string>({ maxEntries: 1024, maxBytes: 512 * 1024, maxAgeMs: 30_000 });

  /** `family` 4 or 6 when the sockets are of one family only (a udp4 socket cannot reach ::1). */
  constructor(family: 0 | 4 | 6 = 0) {
    this.#family = family;
  }

  resolve(host: string): string | Promise<string> {
    if (isIP(host) !== 0) return host;
    if (host.length > MAX_NAME_LENGTH) return Promise.reject(new Error('host name longer than 253 characters'));
    const cached = this.#cache.get(host);
    if (cached !== undefined) return cached;
    return lookup(host, { family: this.#family }).then(({ address }) => {
      this.#cache.set(host, address, address.length);
      return address;
    });
  }
}
