import type { InstallInput, StoreFault } from '../policy/install-ledger.js';
import type { ClaimResult } from './app-installs.js';

/*
 * The messages between the SIP path (main thread) and the install writer thread, which owns its
 * own SQLite connection so that the event loop never waits on the write lock (issue 8, item 4).
 */

/** What the writer thread is started with (`workerData`). */
export interface WriterSettings {
  readonly path: string;
  /**
   * How long a batch of last-seen and refused-install records waits for the write lock before it
   * is kept for the next try. Short: claims queued behind it wait as long.
   */
  readonly recordWaitMs: number;
  /** Records kept while the store cannot be written; beyond this the oldest are dropped (counted). */
  readonly maxPendingRecords: number;
  /** Pragmas run on the writer's connection after it opens (tests: `query_only`, `max_page_count`). */
  readonly pragmas: readonly string[];
}

export type ToWriter =
  /** Claims made in one turn of the main loop, in one message (one structured clone, one event). */
  | { readonly type: 'claims'; readonly claims: readonly ClaimRequest[] }
  /** Coalesced last-seen refreshes and refused installs, written in one transaction. */
  | {
      readonly type: 'record';
      /** Increasing per message, so the main thread knows which records a report covers. */
      readonly seq: number;
      readonly touches: readonly InstallInput[];
      readonly refused: readonly InstallInput[];
    }
  /** Write what is pending (one try), close the connection, and end. */
  | { readonly type: 'close' };

/** Take a licence; give up without writing when `deadline` (ms since the epoch) has passed. */
export interface ClaimRequest {
  readonly id: number;
  readonly input: InstallInput;
  readonly deadline: number;
}

export type ClaimAnswer =
  | { readonly type: 'claimed'; readonly id: number; readonly result: ClaimResult }
  | { readonly type: 'unrecorded'; readonly id: number; readonly fault: StoreFault };

export type FromWriter =
  /**
   * Answers in one message: those of one claim transaction (`transaction`, committed or rolled
   * back), or of claims that waited past their deadline and were never tried.
   */
  | { readonly type: 'answers'; readonly transaction: boolean; readonly answers: readonly ClaimAnswer[] }
  /** After each try at the records: what was written, what waits, what was dropped, and why not. */
  | {
      readonly type: 'recorded';
      /** The last `record` message this try covered. */
      readonly seq: number;
      readonly written: number;
      readonly pending: number;
      readonly dropped: number;
      readonly fault: StoreFault | null;
    }
  /** The connection is open: claims are taken from now on. */
  | { readonly type: 'ready' }
  | { readonly type: 'closed' };
