import type { ReasonCode } from './reason-code.js';

/**
 * The port through which enforcement takes mobile-app licences (DESIGN.md §3). It lives in the
 * policy layer, beside the snapshot interface, so that the SIP adapters use it and the store
 * implements it without either importing the other.
 */

/**
 * What the SIP side knows of a mobile-app REGISTER: the install (RFC 5626 `+sip.instance`, else
 * `pn-prid`, else the Contact URI), the number it registers and its RFC 8599 push parameters.
 */
export interface InstallInput {
  /** The id it is stored under: the one it was recognised by, else its strongest identifier. */
  readonly instanceId: string;
  readonly number: string;
  /** RFC 5626 `+sip.instance`, when the request carried one. */
  readonly sipInstance?: string | null;
  readonly pnProvider: string | null;
  readonly pnPrid: string | null;
  readonly pnParam: string | null;
  readonly contact: string | null;
  readonly userAgent: string | null;
  readonly now: number;
}

/** Why the store refused a claim: its re-check of the limits found no licence free. */
export type ClaimRefusal = Extract<ReasonCode, 'no-mobile-app-license' | 'personal-license-exceeded' | 'unknown-number'>;

/**
 * Why the store could not take a write. The kinds an operator acts on differently: another process
 * holds the write lock (`locked`), the file or its folder cannot be written (`read-only`), the disk
 * or `max_page_count` is full (`full`), the device fails (`io-error`); `timeout` when no answer came
 * within the claim's wait, `writer-down` when the writer thread is not running, `error` otherwise.
 */
export type StoreFaultKind = 'locked' | 'read-only' | 'full' | 'io-error' | 'timeout' | 'writer-down' | 'error';

export interface StoreFault {
  readonly kind: StoreFaultKind;
  /** The SQLite extended result code (`SQLITE_BUSY`, `SQLITE_READONLY_DIRECTORY`, ...) when there is one. */
  readonly code: string | null;
  readonly message: string;
}

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
