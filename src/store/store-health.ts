import type { Logger } from 'pino';
import type { StoreFault, StoreFaultKind } from '../policy/install-ledger.js';

/** Whether the SIP path's writes get into the store, as the operator sees it (a log line per change). */
export type StoreWriteState =
  | { readonly writable: true }
  | { readonly writable: false; readonly fault: StoreFault; readonly since: number };

/** Told once per change of state, never per failed write. */
export interface StoreStateChange {
  readonly state: StoreWriteState;
  /** When it becomes writable again: how long it was not, and what that cost. */
  readonly episode?: {
    readonly ms: number;
    readonly faults: Readonly<Partial<Record<StoreFaultKind, number>>>;
    readonly unrecordedClaims: number;
    readonly droppedRecords: number;
  };
}

/**
 * Tracks the store's write state from every claim and record batch the writer answers, so that a
 * locked, read-only or full database is logged once when it starts, once when its kind changes, and
 * once when it ends (with counts), instead of once per request or flush.
 */
export class StoreHealth {
  #state: StoreWriteState = { writable: true };
  #faults: Partial<Record<StoreFaultKind, number>> = {};
  #unrecordedClaims = 0;
  #droppedRecords = 0;

  constructor(
    private readonly clock: () => number,
    private readonly onChange: (change: StoreStateChange) => void,
  ) {}

  get state(): StoreWriteState {
    return this.#state;
  }

  /** A write got in. */
  wrote(): void {
    const s = this.#state;
    if (s.writable) return;
    this.#state = { writable: true };
    const episode = {
      ms: this.clock() - s.since,
      faults: this.#faults,
      unrecordedClaims: this.#unrecordedClaims,
      droppedRecords: this.#droppedRecords,
    };
    this.#faults = {};
    this.#unrecordedClaims = 0;
    this.#droppedRecords = 0;
    this.onChange({ state: this.#state, episode });
  }

  /** A write did not get in; `claim` when it was a licence (answered without granting it). */
  failed(fault: StoreFault, what: 'claim' | 'records'): void {
    this.#faults[fault.kind] = (this.#faults[fault.kind] ?? 0) + 1;
    if (what === 'claim') this.#unrecordedClaims++;
    const s = this.#state;
    if (!s.writable && s.fault.kind === fault.kind) return;
    this.#state = { writable: false, fault, since: s.writable ? this.clock() : s.since };
    this.onChange({ state: this.#state });
  }

  /** Records the writer had to drop (kept beyond its bound while the store could not be written). */
  dropped(count: number): void {
    this.#droppedRecords += count;
  }
}

/** One line per change of the store's write state, never one per failed write (issue 8, item 5). */
export function logStoreState(logger: Logger, change: StoreStateChange): void {
  const s = change.state;
  if (s.writable) {
    logger.info({ store: 'writable', episode: change.episode }, 'license store writable again');
    return;
  }
  logger.warn(
    { store: 'unwritable', fault: s.fault.kind, code: s.fault.code, detail: s.fault.message },
    'license store cannot be written: new app installs are answered 503 with Retry-After until it can; licensed devices keep working',
  );
}
