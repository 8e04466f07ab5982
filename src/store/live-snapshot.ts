import type { SnapshotIndex, StaleGroups } from '../policy/snapshot-builder.js';
import type { LicenseSnapshot } from '../policy/snapshot.js';
import type { ClaimedLicense } from './app-installs.js';
import type { Db } from './database.js';
import { loadSnapshot, refreshSnapshot } from './snapshot-loader.js';
import { dataVersion } from './statements.js';

/** How long a tree's reload may wait for this sidecar's claims in flight to bring it along. */
const MAX_DEFER_MS = 500;

export interface LiveSnapshotOptions {
  /** How often to look for changes made by other processes (the CLI); keep under 1 s. */
  readonly intervalMs: number;
  /** Told what a refresh reloaded (for logs). */
  readonly onRefresh?: (stale: StaleGroups, ms: number) => void;
  readonly onError?: (err: unknown) => void;
}

/**
 * The daemon's in-memory snapshot, kept current without a restart. `PRAGMA data_version` changes
 * when another connection (a CLI process, the install writer thread) commits, so the poll costs one
 * pragma when nothing changed; on a change only the trees whose `licenses.revision` moved are
 * reloaded. A licence the install writer took is applied at once (`applyClaim`) and moves the
 * tree's revision with it, so a burst of new installs reloads nothing. Reloads run on the poll's
 * timer (or `markDirty`'s next turn of the loop), never inside a request.
 */
export class LiveSnapshot {
  #index: SnapshotIndex;
  #dataVersion: number;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  /** New-install claims this sidecar has in flight, per root group. */
  readonly #claims = new Map<number, number>();
  /** Since when a tree's reload has been put off for claims in flight. */
  readonly #deferredSince = new Map<number, number>();
  /** performance.now() of the last time the snapshot was found current with the database. */
  #checkedAt: number;

  constructor(
    private readonly db: Db,
    private readonly options: LiveSnapshotOptions,
  ) {
    this.#dataVersion = dataVersion(this.db);
    this.#index = loadSnapshot(db);
    this.#checkedAt = performance.now();
  }

  /** How long ago (ms) the snapshot was last found current with the database: grows while reloads fail. */
  checkedAgoMs(): number {
    return performance.now() - this.#checkedAt;
  }

  get current(): LicenseSnapshot {
    return this.#index;
  }

  get index(): SnapshotIndex {
    return this.#index;
  }

  /** Something changed that the poll may not see: reload the changed trees on the next turn of the loop. */
  markDirty(): void {
    this.#dirty = true;
    if (this.#soon !== undefined) return;
    this.#soon = setImmediate(() => {
      this.#soon = undefined;
      try {
        this.refresh();
      } catch (err) {
        this.options.onError?.(err);
      }
    });
  }

  /** A licence the store just committed: applied now, without reading the store (see SnapshotIndex.applyClaim). */
  applyClaim(claimed: ClaimedLicense): void {
    this.#index.applyClaim(claimed.install, claimed.revisionBefore, claimed.revisionAfter);
  }

  /**
   * A claim for `number` goes to the store; call the returned function once its answer has been
   * applied. Until then the claim may have moved its tree's revision in the store before this
   * snapshot hears of it, which the poll must not mistake for a change that needs a reload.
   */
  expectClaim(number: string): () => void {
    const rootId = this.#index.number(number)?.rootId;
    if (rootId === undefined) return () => undefined;
    this.#claims.set(rootId, (this.#claims.get(rootId) ?? 0) + 1);
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      const left = (this.#claims.get(rootId) ?? 1) - 1;
      if (left > 0) this.#claims.set(rootId, left);
      else this.#claims.delete(rootId);
    };
  }

  /** Reloads the changed trees if anything changed since the last look. */
  refresh(): StaleGroups | null {
    const version = dataVersion(this.db);
    if (version === this.#dataVersion && !this.#dirty) {
      this.#checkedAt = performance.now();
      return null;
    }
    const started = performance.now();
    this.#dataVersion = version;
    this.#dirty = false;
    const deferred = new Set<number>();
    const stale = refreshSnapshot(this.db, this.#index, (rootId, revision) => {
      if (!this.#explainedByClaims(rootId, revision, started)) return false;
      deferred.add(rootId);
      return true;
    });
    for (const rootId of this.#deferredSince.keys()) if (!deferred.has(rootId)) this.#deferredSince.delete(rootId);
    // Look again on the next tick, whether or not anything else commits.
    if (deferred.size > 0) this.#dirty = true;
    this.#checkedAt = performance.now();
    if (stale.changed.length > 0 || stale.removed.length > 0) this.options.onRefresh?.(stale, this.#checkedAt - started);
    return stale;
  }

  /**
   * True when the tree's newer revision in the store may be nothing but our own claims in flight
   * (each moves it by one), whose answers bring the tree along without a reload: a burst of new
   * installs then reloads nothing. Bounded, so that a change by another process to the same tree
   * is still reloaded within MAX_DEFER_MS.
   */
  #explainedByClaims(rootId: number, revision: number, now: number): boolean {
    const inFlight = this.#claims.get(rootId) ?? 0;
    const at = this.#index.revisionOf(rootId);
    if (inFlight === 0 || at === undefined || revision - at > inFlight) return false;
    const since = this.#deferredSince.get(rootId) ?? now;
    if (now - since >= MAX_DEFER_MS) return false;
    this.#deferredSince.set(rootId, since);
    return true;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      try {
        this.refresh();
      } catch (err) {
        // Keep deciding on the last good snapshot; the next tick tries again.
        this.options.onError?.(err);
      }
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#soon) clearImmediate(this.#soon);
    this.#timer = undefined;
    this.#soon = undefined;
  }
}
