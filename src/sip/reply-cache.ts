/**
 * Local replies recently sent, so that a retransmitted request gets the very same reply without
 * asking the gate again (RFC 3261 §17.2.1, §17.2.2 server transaction behaviour, kept statelessly
 * small). Bounded in size; entries live for 64*T1 = 32 s, the lifetime of a server transaction.
 */
export class ReplyCache {
  readonly #entries = new Map<string, { readonly reply: Buffer; readonly expires: number }>();
  readonly #max: number;
  readonly #ttlMs: number;

  constructor(max = 8192, ttlMs = 32_000) {
    this.#max = max;
    this.#ttlMs = ttlMs;
  }

  get(key: string, now: number): Buffer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.reply;
  }

  set(key: string, reply: Buffer, now: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { reply, expires: now + this.#ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
