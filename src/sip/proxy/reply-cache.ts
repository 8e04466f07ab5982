import { BoundedCache, type CacheBounds } from './bounded-cache.js';
import { latin1 } from '../message/latin1.js';

/**
 * Replies live for 64*T1 = 32 s, the lifetime of a server transaction; 4 MiB hold some 8,000
 * refusals of a usual size, or 60 of the largest messages.
 */
export const DEFAULT_REPLY_CACHE: CacheBounds = Object.freeze({ maxEntries: 8192, maxBytes: 4 * 1024 * 1024, maxAgeMs: 32_000 });

/**
 * Local replies recently sent, so that a retransmitted request gets the very same reply without
 * asking the gate again (RFC 3261 §17.2.1, §17.2.2 server transaction behaviour, kept statelessly
 * small). Bounded by entries, bytes and age: a flood of refusals carrying huge headers can hold no
 * more than `maxBytes`, and what it held is given back once the replies are older than `maxAgeMs`.
 */
export class ReplyCache {
  /** Replies as latin1 strings: compact, and independent of the pool slab a small Buffer shares. */
  readonly #cache: BoundedCache<string>;

  constructor(bounds: CacheBounds = DEFAULT_REPLY_CACHE) {
    this.#cache = new BoundedCache(bounds);
  }

  get(key: string, now: number): Buffer | undefined {
    const text = this.#cache.get(key, now);
    return text === undefined ? undefined : Buffer.from(text, 'latin1');
  }

  set(key: string, reply: Buffer, now: number): void {
    this.#cache.set(key, latin1(reply, 0, reply.length), reply.length, now);
  }

  get size(): number {
    return this.#cache.size;
  }

  get bytes(): number {
    return this.#cache.bytes;
  }
}

