import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BoundedCache, type CacheBounds } from './bounded-cache.js';
import { transportFromName, type Flow } from './flow.js';

const MAC_LENGTH = 12;
/** Longer user parts are not ours (ours are under 100 characters): refused before any work or caching. */
const MAX_TOKEN_LENGTH = 200;
/** Tokens are recomputed in a few µs: the caches only spare the HMAC for the flows of the moment. */
const CACHE_BOUNDS: CacheBounds = Object.freeze({ maxEntries: 4096, maxBytes: 1024 * 1024, maxAgeMs: 600_000 });

/**
 * Flow tokens (RFC 5626 §5.2): the user part of a Record-Route or Path URI the proxy inserts,
 * naming the client flow (transport, address, port) that requests of the dialog or registration
 * must be sent back on. That is how a request from the upstream reaches a WebSocket or NATed
 * client whose Contact cannot be reached. Tokens are MAC-protected so that nobody can make the
 * proxy send to an address of their choosing. The alphabet (base64url, '.') is valid in a SIP
 * user part without escaping.
 */
export class FlowTokens {
  readonly #secret: Buffer;
  readonly #encoded = new BoundedCache<string>(CACHE_BOUNDS);
  readonly #decoded = new BoundedCache<Flow | null>(CACHE_BOUNDS);

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret;
  }

  encode(flow: Flow): string {
    const payload = `${flow.transport}|${flow.address}|${flow.port}`;
    let token = this.#encoded.get(payload);
    if (token === undefined) {
      token = `${Buffer.from(payload, 'latin1').toString('base64url')}.${this.#mac(payload)}`;
      this.#encoded.set(payload, token, token.length);
    }
    return token;
  }

  /** The flow a token names; null when it is not one of ours (or was tampered with). */
  decode(token: string): Flow | null {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const cached = this.#decoded.get(token);
    if (cached !== undefined) return cached;
    const flow = this.#verify(token);
    this.#decoded.set(token, flow, flow === null ? 0 : flow.address.length + 32);
    return flow;
  }

  /** What the caches hold, for the proxy's cache report. */
  cached(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#encoded.size + this.#decoded.size, bytes: this.#encoded.bytes + this.#decoded.bytes };
  }

  #verify(token: string): Flow | null {
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const payload = Buffer.from(token.slice(0, dot), 'base64url').toString('latin1');
    const mac = Buffer.from(token.slice(dot + 1), 'latin1');
    const expected = Buffer.from(this.#mac(payload), 'latin1');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    const [name, address, port] = payload.split('|');
    const transport = transportFromName(name);
    const portNumber = Number(port);
    if (transport === null || !address || !Number.isInteger(portNumber)) return null;
    return { transport, address, port: portNumber };
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url').slice(0, MAC_LENGTH);
  }
}
