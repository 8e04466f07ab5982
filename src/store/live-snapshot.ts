import type { SnapshotIndex, StaleGroups } from '../policy/snapshot-builder.js';
import type { LicenseSnapshot } from '../policy/snapshot.js';
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
 * when another connection (a CLI process) commits, so the poll costs one pragma when nothing
 * changed; on a change only the trees whose `licenses.revision` moved are reloaded. Our own writes
 * (install claims) do not move data_version for this connection, so they call `markDirty()`.
 */
export class LiveSnapshot {
  #index: SnapshotIndex;
  #dataVersion: number;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;

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

  /** Our own connection wrote: reload the changed trees now. */
  markDirty(): void {
    this.#dirty = true;
    this.refresh();
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
    this.#timer = undefined;
  }

  #readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
