import type { SnapshotIndex, StaleGroups } from '../policy/snapshot-builder.js';
import type { LicenseSnapshot } from '../policy/snapshot.js';
import type { ClaimedLicense } from './app-installs.js';
import type { Db } from './database.js';
import { loadSnapshot, refreshSnapshot } from './snapshot-loader.js';

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

  constructor(
    private readonly db: Db,
    private readonly options: LiveSnapshotOptions,
  ) {
    this.#dataVersion = this.#readDataVersion();
    this.#index = loadSnapshot(db);
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

  /** Reloads the changed trees if anything changed since the last look. */
  refresh(): StaleGroups | null {
    const version = this.#readDataVersion();
    if (version === this.#dataVersion && !this.#dirty) return null;
    const started = performance.now();
    this.#dataVersion = version;
    this.#dirty = false;
    const stale = refreshSnapshot(this.db, this.#index);
    this.options.onRefresh?.(stale, performance.now() - started);
    return stale;
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

  #readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
