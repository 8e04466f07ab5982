import { createCipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { BoundedCache, type CacheBounds } from './bounded-cache.js';
import { transportFromName, type Flow, type TransportName } from '../transports/flow.js';

/** Tokens are recomputed in a few µs: the caches only spare the crypto for the flows of the moment. */
const CACHE_BOUNDS: CacheBounds = Object.freeze({ maxEntries: 4096, maxBytes: 1024 * 1024, maxAgeMs: 600_000 });
/** Synthetic IV (and authentication tag) length: a full AES block. */
const IV_LENGTH = 16;
/** Length of the dialog binding and instance digests. */
const DIGEST_LENGTH = 8;
/** Kind bits of the first plaintext byte; the rest flags optional fields. */
const KIND_MASK = 0x03;
const HAS_INSTANCE = 0x04;
/** Longest token accepted: the longest IPv6 text address with a dialog binding, base64url. */
const MAX_TOKEN_LENGTH = 120;
/** Plaintext layout version, in the high nibble of its first byte. */
const VERSION = 0x10;
// Appended only: the index is what a token carries, so tokens sealed before still open.
const TRANSPORTS: readonly TransportName[] = ['udp', 'tcp', 'ws', 'tls', 'wss'];

/**
 * What a token was made for:
 * - `registration`: in the Path of a client's REGISTER (RFC 3327), for any request the registrar
 *   sends that client, initial ones included;
 * - `dialog`: in the Record-Route of an initial request (RFC 3261 §16.6 step 4), for the requests
 *   of that one dialog only: it is bound to the Call-ID and the caller's From tag.
 */
export type FlowTokenKind = 'registration' | 'dialog';

export interface FlowTokenClaim {
  readonly kind: FlowTokenKind;
  /** The client flow (transport, address, port) the token names. */
  readonly flow: Flow;
  /** dialog: digest of Call-ID and the caller's tag; null for registration tokens. */
  readonly binding: Buffer | null;
  /**
   * dialog: digest of the RFC 5626 instance (`+sip.instance`) that registered on that flow, when
   * known, so the dialog can follow the client to its next connection; null otherwise.
   */
  readonly instance: Buffer | null;
}

/**
 * Flow tokens (RFC 5626 §5.2): the user part of a Record-Route or Path URI the proxy inserts,
 * naming the client flow that requests of the registration or dialog must be sent back on. That is
 * how a request from the upstream reaches a WebSocket or NATed client whose Contact cannot be
 * reached, and how the proxy tells a request the upstream routed to a client from anything else.
 *
 * A token is sealed with deterministic authenticated encryption (the SIV construction of RFC 5297
 * §2.6, with HMAC-SHA-256 as its PRF and AES-256-CTR): nobody can read the client's address in it
 * or make one naming an address of their choosing, and the same flow always gets the same token,
 * so no nonce can ever repeat however long the key lives. The key is kept in the database, so
 * tokens stay valid across restarts. The alphabet (base64url) is valid in a SIP user part.
 */
export class FlowTokens {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;
  readonly #registrations = new BoundedCache<string>(CACHE_BOUNDS);
  readonly #opened = new BoundedCache<FlowTokenClaim | null>(CACHE_BOUNDS);

  /** `key`: at least 16 bytes of secret; the cipher and MAC keys are derived from it (HKDF). */
  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('a flow token key needs at least 16 bytes');
    this.#encKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sipwarden flow token enc', 32));
    this.#macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sipwarden flow token mac', 32));
  }

  /** The token of a client's registration flow (cached: it is on the REGISTER path). */
  forRegistration(flow: Flow): string {
    const key = `${flow.transport}|${flow.address}|${flow.port}`;
    let token = this.#registrations.get(key);
    if (token === undefined) {
      token = this.#seal(plaintext('registration', flow, null, null));
      this.#registrations.set(key, token, token.length);
    }
    return token;
  }

  /**
   * The token of a dialog's client flow, bound to the dialog's Call-ID and the caller's From tag,
   * carrying the digest of the client's instance when known (see instanceDigest).
   */
  forDialog(flow: Flow, callId: string, callerTag: string | null, instance: Buffer | null = null): string {
    return this.#seal(plaintext('dialog', flow, dialogBinding(callId, callerTag), instance));
  }

  /** What a token claims; null when it is not one of ours (or was altered). */
  open(token: string): FlowTokenClaim | null {
    // Longer user parts are not ours: refused before any work or caching.
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const cached = this.#opened.get(token);
    if (cached !== undefined) return cached;
    const claim = this.#unseal(token);
    this.#opened.set(token, claim, claim === null ? 0 : claim.flow.address.length + 48);
    return claim;
  }

  /** What the caches hold, for the proxy's cache report. */
  cached(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#registrations.size + this.#opened.size, bytes: this.#registrations.bytes + this.#opened.bytes };
  }

  #seal(text: Buffer): string {
    const iv = this.#prf(text);
    const cipher = createCipheriv('aes-256-ctr', this.#encKey, iv);
    return Buffer.concat([iv, cipher.update(text), cipher.final()]).toString('base64url');
  }

  #unseal(token: string): FlowTokenClaim | null {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length <= IV_LENGTH + 4) return null;
    const iv = raw.subarray(0, IV_LENGTH);
    const decipher = createCipheriv('aes-256-ctr', this.#encKey, iv);
    const text = Buffer.concat([decipher.update(raw.subarray(IV_LENGTH)), decipher.final()]);
    if (!timingSafeEqual(iv, this.#prf(text))) return null;
    return parsePlaintext(text);
  }

  #prf(text: Buffer): Buffer {
    return createHmac('sha256', this.#macKey).update(text).digest().subarray(0, IV_LENGTH);
  }
}

/** The 8-byte digest of an RFC 5626 instance id as a dialog token carries it. */
export function instanceDigest(instanceId: string): Buffer {
  return createHash('sha256').update(`instance\0${instanceId}`).digest().subarray(0, DIGEST_LENGTH);
}

/** The digest a dialog token is bound to: its Call-ID and the tag of the party that created it. */
export function dialogBinding(callId: string, tag: string | null): Buffer {
  return createHash('sha256').update(`${callId}\0${tag ?? ''}`).digest().subarray(0, DIGEST_LENGTH);
}

/**
 * Whether a dialog claim belongs to this request's dialog: same Call-ID, and the caller's tag as
 * the From tag (a request from the caller) or the To tag (one from the callee), RFC 3261 §12.
 */
export function bindsDialog(claim: FlowTokenClaim, callId: string | null, fromTag: string | null, toTag: string | null): boolean {
  if (claim.binding === null || callId === null) return false;
  return claim.binding.equals(dialogBinding(callId, fromTag)) || (toTag !== null && claim.binding.equals(dialogBinding(callId, toTag)));
}

/**
 * version+kind+flags (1), transport (1), port (2, big-endian), [binding (8)], [instance (8)],
 * address (latin1).
 */
function plaintext(kind: FlowTokenKind, flow: Flow, binding: Buffer | null, instance: Buffer | null): Buffer {
  const head = Buffer.alloc(4);
  head[0] = VERSION | (kind === 'dialog' ? 2 : 1) | (instance === null ? 0 : HAS_INSTANCE);
  head[1] = TRANSPORTS.indexOf(flow.transport);
  head.writeUInt16BE(flow.port, 2);
  return Buffer.concat([head, binding ?? Buffer.alloc(0), instance ?? Buffer.alloc(0), Buffer.from(flow.address, 'latin1')]);
}

function parsePlaintext(text: Buffer): FlowTokenClaim | null {
  const first = text[0] ?? 0;
  if ((first & 0xf0) !== VERSION) return null;
  const kind: FlowTokenKind | null = (first & KIND_MASK) === 1 ? 'registration' : (first & KIND_MASK) === 2 ? 'dialog' : null;
  const transport = transportFromName(TRANSPORTS[text[1] ?? 255]);
  if (kind === null || transport === null) return null;
  const port = text.readUInt16BE(2);
  let at = 4;
  const binding = kind === 'dialog' ? Buffer.from(text.subarray(at, (at += DIGEST_LENGTH))) : null;
  const instance = (first & HAS_INSTANCE) !== 0 ? Buffer.from(text.subarray(at, (at += DIGEST_LENGTH))) : null;
  if (text.length <= at) return null;
  return { kind, flow: { transport, address: text.toString('latin1', at), port }, binding, instance };
}
