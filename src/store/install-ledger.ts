import type { InstallLedger } from '../sip/enforcement/install-ledger.js';
import { claimInstall, recordRefusedInstall, touchInstall, type InstallInput } from './app-installs.js';
import type { Db } from './database.js';

export interface SqliteInstallLedgerOptions {
  /** Called after a write that changed licensed installs, so the live snapshot reloads that tree. */
  readonly onLicenseChange: () => void;
  /** How often batched last-seen updates are written. */
  readonly touchFlushMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * The store side of mobile-app installs for the SIP path. Claims are written at once (they decide
 * the reply); last-seen refreshes of licensed installs are coalesced and written in one
 * transaction per interval, so a storm of app re-REGISTERs costs one write per install per
 * interval instead of one per message.
 */
export class SqliteInstallLedger implements InstallLedger {
  readonly #pendingTouches = new Map<string, InstallInput>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly options: SqliteInstallLedgerOptions,
  ) {
    this.#timer = setInterval(() => this.flush(), options.touchFlushMs ?? 1000);
    this.#timer.unref();
  }

  claim(input: InstallInput) {
    const result = claimInstall(this.db, input);
    if (result.ok && !result.alreadyLicensed) this.options.onLicenseChange();
    return result;
  }

  recordRefused(input: InstallInput): void {
    recordRefusedInstall(this.db, input);
  }

  touch(input: InstallInput): void {
    this.#pendingTouches.set(`${input.instanceId}\u0000${input.number}`, input);
  }

  /** Writes the coalesced last-seen updates. */
  flush(): void {
    if (this.#pendingTouches.size === 0) return;
    const batch = [...this.#pendingTouches.values()];
    this.#pendingTouches.clear();
    try {
      this.db.transaction(() => {
        for (const input of batch) touchInstall(this.db, input);
      })();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
