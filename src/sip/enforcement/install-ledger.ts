import type { ClaimRefusal, InstallInput } from '../../store/app-installs.js';
import type { StoreFault } from '../../store/store-fault.js';

/**
 * A new install's claim as the store answered it: the licence was taken (or was already held), the
 * store refused it (its re-check of the limits found none free), or nothing could be written —
 * then no licence is granted (issue 8, item 5): the request is answered `503` + `Retry-After`.
 */
export type LedgerClaim =
  | { readonly outcome: 'granted' }
  | { readonly outcome: 'refused'; readonly reason: ClaimRefusal }
  | { readonly outcome: 'unrecorded'; readonly fault: StoreFault };

/**
 * What enforcement needs of the store for mobile-app installs. The store implements it with
 * `BEGIN IMMEDIATE` transactions that re-check the limits, so the SIP reply follows the store's
 * answer even with several sidecars on one database (DESIGN.md §3). Nothing here blocks the event
 * loop: a claim resolves within the configured wait, records are written later.
 */
export interface InstallLedger {
  /** Takes a license for a new install (or confirms it holds one). */
  claim(input: InstallInput): Promise<LedgerClaim>;
  /** Keeps the push parameters of a refused install, so the renewal push can reach it. Written lazily. */
  recordRefused(input: InstallInput): void;
  /** A licensed install registered again: last seen now. Written lazily. */
  touch(input: InstallInput): void;
}
