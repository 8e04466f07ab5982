import type { ClaimResult, InstallInput } from '../../store/app-installs.js';

/**
 * What enforcement needs of the store for mobile-app installs. The store implements it with
 * `BEGIN IMMEDIATE` transactions that re-check the limits, so the SIP reply follows the store's
 * answer even with several sidecars on one database (DESIGN.md §3).
 */
export interface InstallLedger {
  /** Takes a license for a new install (or confirms it holds one). */
  claim(input: InstallInput): ClaimResult;
  /** Keeps the push parameters of a refused install, so the renewal push can reach it. */
  recordRefused(input: InstallInput): void;
  /** A licensed install registered again: last seen now. May be written lazily. */
  touch(input: InstallInput): void;
}
