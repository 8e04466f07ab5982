import type { InstallInput, InstallLedger, LedgerClaim } from '../policy/install-ledger.js';
import type { ClaimedLicense } from './app-installs.js';
import { InstallWriter, type InstallWriterOptions, type RecordReport, type WriterAnswer } from './install-writer.js';
import type { StoreHealth } from './store-health.js';

export interface StoreInstallLedgerOptions {
  /** The database file; the writer thread opens its own connection to it. */
  readonly path: string;
  /** How long a new install's claim waits for the write lock before it is answered unrecorded. */
  readonly claimTimeoutMs: number;
  /** Told of every licence a claim took, so the live snapshot applies it without a reload. */
  readonly onClaimed: (claimed: ClaimedLicense) => void;
  /** Told when a claim goes to the store; the function it returns is called once its answer is applied. */
  readonly onClaimSent?: (input: InstallInput) => () => void;
  readonly health: StoreHealth;
  /** How often coalesced last-seen refreshes go to the writer. */
  readonly touchFlushMs?: number;
  /**
   * How long refused installs gather before they go to the writer: short, so that a renewal push
   * soon after a refusal finds the install, yet a burst of refusals is one write.
   */
  readonly refusedFlushMs?: number;
  readonly writer?: Omit<InstallWriterOptions, 'path' | 'onRecorded'>;
}

const key = (i: InstallInput): string => `${i.instanceId}\u0000${i.number}`;

/**
 * The store side of mobile-app installs for the SIP path, off the event loop: every write goes to
 * the install writer thread. A claim is in flight at most once per install and number (a client's
 * retransmission waits for the same answer); last-seen refreshes and refused installs are
 * coalesced per install and handed over in batches (refused installs within 50 ms, last-seen times
 * once a second), so a storm of app REGISTERs costs one write per install per interval instead of
 * one per message.
 */
export class StoreInstallLedger implements InstallLedger {
  readonly #writer: InstallWriter;
  readonly #inFlight = new Map<string, Promise<LedgerClaim>>();
  #touches = new Map<string, InstallInput>();
  #refused = new Map<string, InstallInput>();
  readonly #timer: NodeJS.Timeout;
  #refusedTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StoreInstallLedgerOptions) {
    this.#writer = new InstallWriter({
      ...options.writer,
      path: options.path,
      onRecorded: (report) => this.#recorded(report),
    });
    this.#timer = setInterval(() => {
      if (this.#touches.size > 0 || this.#refused.size > 0) void this.flush();
    }, options.touchFlushMs ?? 1000);
    this.#timer.unref();
  }

  /** Resolves once the writer thread has its connection (`serve` waits for it before listening). */
  ready(): Promise<void> {
    return this.#writer.ready();
  }

  claim(input: InstallInput): Promise<LedgerClaim> {
    const k = key(input);
    const running = this.#inFlight.get(k);
    if (running !== undefined) return running;
    const settled = this.options.onClaimSent?.(input);
    const claim = this.#writer.claim(input, this.options.claimTimeoutMs).then((answer): LedgerClaim => {
      this.#inFlight.delete(k);
      try {
        return this.#settle(answer);
      } finally {
        settled?.();
      }
    });
    this.#inFlight.set(k, claim);
    return claim;
  }

  #settle(answer: WriterAnswer): LedgerClaim {
    const health = this.options.health;
    if (answer.kind === 'unrecorded') {
      health.failed(answer.fault, 'claim');
      return { outcome: 'unrecorded', fault: answer.fault };
    }
    health.wrote();
    const result = answer.result;
    if (!result.ok) return { outcome: 'refused', reason: result.reason };
    if (!result.alreadyLicensed) this.options.onClaimed(result.claimed);
    return { outcome: 'granted' };
  }

  recordRefused(input: InstallInput): void {
    this.#refused.set(key(input), input);
    this.#refusedTimer ??= setTimeout(() => void this.flush(), this.options.refusedFlushMs ?? 50);
  }

  touch(input: InstallInput): void {
    this.#touches.set(key(input), input);
  }

  /** Hands the coalesced records to the writer; resolves once it has tried to write them. */
  flush(): Promise<void> {
    clearTimeout(this.#refusedTimer);
    this.#refusedTimer = undefined;
    const touches = [...this.#touches.values()];
    const refused = [...this.#refused.values()];
    this.#touches = new Map();
    this.#refused = new Map();
    return this.#writer.record(touches, refused);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    await this.#writer.close();
  }

  #recorded(report: RecordReport): void {
    const health = this.options.health;
    if (report.dropped > 0) health.dropped(report.dropped);
    if (report.fault === null) health.wrote();
    else health.failed(report.fault, 'records');
  }
}
