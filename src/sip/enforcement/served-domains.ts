import { readAorHost } from '../message/aor.js';

/**
 * Which AoR domains the sidecar licenses (DESIGN.md §2; issue 7, hole 6). Virtual numbers are
 * unique on the SIP server, so the domain is ignored unless the server itself tells AoRs apart by
 * domain (Kamailio usrloc `use_domain` 1) *and* the operator lists served domains. When the server
 * ignores domains, `1001@127.0.0.2` binds the same 1001 as `1001@intercom.example`, so every
 * request is enforced whatever domain it names.
 */
export class ServedDomains {
  readonly #useDomain: boolean;
  readonly #served: ReadonlySet<string>;

  /** `domains`: served domains (any case; IPv6 literals with or without brackets); empty = all. */
  constructor(useDomain: boolean, domains: readonly string[]) {
    this.#useDomain = useDomain;
    this.#served = new Set(domains.map(domainKey));
  }

  /**
   * Whether a request for the AoR `uri` is the sidecar's to decide: its host as the registrar reads
   * it (readAorHost) is served. The host is read only when domains matter. An unreadable URI counts
   * as served: it is refused or decided on, never let through unchecked.
   */
  serves(uri: string): boolean {
    if (!this.#useDomain || this.#served.size === 0) return true;
    const host = readAorHost(uri);
    return host === null || this.#served.has(domainKey(host));
  }
}

/** Lower case, IPv6 brackets removed; nothing else (a trailing dot is another domain to Kamailio). */
function domainKey(domain: string): string {
  const d = domain.toLowerCase();
  return d.startsWith('[') && d.endsWith(']') ? d.slice(1, -1) : d;
}
