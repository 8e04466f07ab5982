import { BoundedCache, type CacheBounds } from './bounded-cache.js';
import type { Flow } from '../transports/flow.js';
import { instanceDigest } from './flow-token.js';

/** A REGISTER on its way to the registrar, waiting for its 2xx for at most a transaction's life (64×T1). */
const PENDING: CacheBounds = Object.freeze({ maxEntries: 16_384, maxBytes: 4 * 1024 * 1024, maxAgeMs: 32_000 });
/** Learned flows live as long as a long registration; a refresh renews them. */
const LEARNED: CacheBounds = Object.freeze({ maxEntries: 100_000, maxBytes: 16 * 1024 * 1024, maxAgeMs: 24 * 3600_000 });

interface Registering {
  readonly digest: Buffer;
  readonly flow: Flow;
}

/**
 * Which TCP/WebSocket connection each RFC 5626 instance (`+sip.instance`) of a client last
 * registered on, so that a dialog whose Record-Route names a connection that is gone (the client
 * reconnected, or the sidecar restarted) follows the client to its new one. A WebSocket client
 * cannot be called back on a new connection by anyone: it must reconnect and register again, and
 * that REGISTER is what tells the sidecar where it now is.
 *
 * Only registrations the registrar accepted count: a REGISTER is remembered by its branch and
 * the flow is learned when a 2xx for that branch comes back, so a client claiming another's
 * instance gains nothing the registrar (and its authentication) did not grant. In memory only:
 * after a restart a client is found again as soon as it registers again.
 */
export class InstanceFlows {
  readonly #pending = new BoundedCache<Registering>(PENDING);
  readonly #byInstance = new BoundedCache<Flow>(LEARNED);
  readonly #byFlow = new BoundedCache<Buffer>(LEARNED);

  /** A stream client's REGISTER for `instanceId` is forwarded on our `branch`. */
  registering(branch: string, flow: Flow, instanceId: string): void {
    this.#pending.set(branch, { digest: instanceDigest(instanceId), flow }, flow.address.length + 64);
  }

  /** A 2xx to the REGISTER sent on `branch` came back: its client is now at that flow. */
  accepted(branch: string): void {
    if (this.#pending.size === 0) return;
    const registering = this.#pending.get(branch);
    if (registering === undefined) return;
    const { digest, flow } = registering;
    this.#byInstance.set(digest.toString('hex'), flow, flow.address.length + 48);
    this.#byFlow.set(flowKey(flow), digest, 32);
  }

  /** The flow the instance registered on last; undefined when not known (yet). */
  current(digest: Buffer): Flow | undefined {
    return this.#byInstance.get(digest.toString('hex'));
  }

  /** The digest of the instance that registered on `flow`, for the dialog tokens made for it. */
  instanceOf(flow: Flow): Buffer | null {
    return this.#byFlow.get(flowKey(flow)) ?? null;
  }

  cached(): { readonly entries: number; readonly bytes: number } {
    const all = [this.#pending, this.#byInstance, this.#byFlow];
    return { entries: all.reduce((n, c) => n + c.size, 0), bytes: all.reduce((n, c) => n + c.bytes, 0) };
  }
}

function flowKey(flow: Flow): string {
  return `${flow.transport}|${flow.address}|${flow.port}`;
}
