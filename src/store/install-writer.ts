import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InstallInput, StoreFault } from '../policy/install-ledger.js';
import type { ClaimResult } from './app-installs.js';
import type { ClaimAnswer, ClaimRequest, FromWriter, ToWriter, WriterSettings } from './install-writer-protocol.js';

/** A claim's answer: the store's (granted or refused), or why nothing was written. */
export type WriterAnswer =
  | { readonly kind: 'claimed'; readonly result: ClaimResult }
  | { readonly kind: 'unrecorded'; readonly fault: StoreFault };

/** What the writer reports after each try at the records. */
export type RecordReport = Omit<Extract<FromWriter, { type: 'recorded' }>, 'type' | 'seq'>;

export interface InstallWriterOptions {
  readonly path: string;
  readonly recordWaitMs?: number;
  readonly maxPendingRecords?: number;
  readonly pragmas?: readonly string[];
  readonly onRecorded?: (report: RecordReport) => void;
  /** The thread failed (it is started again on the next write, at most once a second). */
  readonly onDown?: (err: unknown) => void;
}

/** How the claims went to the store: how many were tried, in how many transactions. */
export interface ClaimStats {
  readonly claims: number;
  readonly transactions: number;
}

/** Past a claim's deadline, how long the main thread still waits for the writer's own answer. */
const ANSWER_GRACE_MS = 500;
const RESTART_AFTER_MS = 1000;
const SWEEP_MS = 100;

interface Pending {
  readonly deadline: number;
  readonly resolve: (answer: WriterAnswer) => void;
}

/**
 * The main thread's side of the install writer thread (install-writer-thread.ts). `claim` never
 * blocks: it posts the claim and resolves with the writer's answer, or — should the thread not
 * answer within the deadline and a grace — with a `timeout` fault (if the thread commits later,
 * the licence is recorded but was not granted: the client's retry finds it held).
 */
export class InstallWriter {
  #worker: Worker | null = null;
  #downSince = Number.NEGATIVE_INFINITY;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Claims made in this turn of the loop, posted together on the next (setImmediate). */
  #outbox: ClaimRequest[] = [];
  #flush: NodeJS.Immediate | undefined;
  #stats = { claims: 0, transactions: 0 };
  #recordSeq = 0;
  /** Who waits for the writer's try at the records up to a `record` message. */
  readonly #recordWaiters: { readonly seq: number; readonly resolve: () => void }[] = [];
  /** Runs only while claims wait for an answer: an idle sidecar takes no wake-ups for it. */
  #sweeper: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #ready: Promise<void> = Promise.resolve();

  constructor(private readonly options: InstallWriterOptions) {
    this.#start();
  }

  /** Claims the thread tried in a transaction, and how many transactions that took (group commit). */
  claimStats(): ClaimStats {
    return { ...this.#stats };
  }

  /** Resolves once the thread has opened its connection; rejects when it could not. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Takes a licence, waiting for the write lock at most `waitMs`. The claims of one turn of the
   * loop (libuv reads up to 32 datagrams a turn) go to the thread in one message, after the turn:
   * a message costs the loop a structured clone and an event each, more than the claim itself.
   */
  claim(input: InstallInput, waitMs: number): Promise<WriterAnswer> {
    if (this.#running() === null) return Promise.resolve(down('the install writer thread is not running'));
    const id = this.#nextId++;
    const deadline = Date.now() + waitMs;
    return new Promise<WriterAnswer>((resolve) => {
      this.#pending.set(id, { deadline, resolve });
      if (this.#sweeper === undefined) {
        this.#sweeper = setInterval(() => this.#sweep(Date.now()), SWEEP_MS);
        this.#sweeper.unref();
      }
      this.#outbox.push({ id, input, deadline });
      this.#flush ??= setImmediate(() => this.#postClaims());
    });
  }

  #postClaims(): void {
    this.#flush = undefined;
    const claims = this.#outbox;
    this.#outbox = [];
    // A thread that ended in between has answered these already (writer-down, on its exit).
    if (this.#worker !== null && claims.length > 0) this.#post(this.#worker, { type: 'claims', claims });
  }

  /**
   * Hands coalesced records to the writer; they wait there while the store cannot be written.
   * Resolves once the writer has tried to write them (or is not running).
   */
  record(touches: readonly InstallInput[], refused: readonly InstallInput[]): Promise<void> {
    this.#postClaims(); // claims before records, as they were made
    const worker = this.#running();
    if (worker === null) return Promise.resolve();
    const seq = ++this.#recordSeq;
    this.#post(worker, { type: 'record', seq, touches, refused });
    return new Promise((resolve) => this.#recordWaiters.push({ seq, resolve }));
  }

  /** Lets the writer write what is pending (one try), then ends it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      clearImmediate(this.#flush);
      this.#postClaims();
      const worker = this.#worker;
      if (worker === null) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      this.#post(worker, { type: 'close' });
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }

  #running(): Worker | null {
    if (this.#worker === null && this.#closing === undefined && Date.now() - this.#downSince >= RESTART_AFTER_MS) this.#start();
    return this.#worker;
  }

  #start(): void {
    const settings: WriterSettings = {
      path: this.options.path,
      recordWaitMs: this.options.recordWaitMs ?? 200,
      maxPendingRecords: this.options.maxPendingRecords ?? 100_000,
      pragmas: this.options.pragmas ?? [],
    };
    const worker = new Worker(threadScript(), { workerData: settings });
    worker.unref();
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWriter) => (m.type === 'ready' ? resolve() : this.#answer(m)));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the install writer thread ended (exit code ${code}) before it was ready`)));
    });
    // Seen by whoever awaits ready(); a restart after a failure is reported through onDown.
    this.#ready.catch(() => undefined);
    worker.on('error', (err) => this.options.onDown?.(err));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#downSince = Date.now();
      this.#outbox = []; // answered below: never posted to a thread started later
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        p.resolve(down('the install writer thread ended'));
      }
      for (const w of this.#recordWaiters.splice(0)) w.resolve();
    });
    this.#worker = worker;
  }

  #post(worker: Worker, m: ToWriter): void {
    worker.postMessage(m);
  }

  #answer(m: FromWriter): void {
    if (m.type === 'recorded') {
      const { type: _type, seq, ...report } = m;
      this.options.onRecorded?.(report);
      while (this.#recordWaiters.length > 0 && (this.#recordWaiters[0]?.seq ?? Infinity) <= seq) this.#recordWaiters.shift()?.resolve();
      return;
    }
    if (m.type !== 'answers') return;
    if (m.transaction) {
      this.#stats.transactions++;
      this.#stats.claims += m.answers.length;
    }
    for (const a of m.answers) this.#settle(a);
  }

  #settle(a: ClaimAnswer): void {
    const p = this.#pending.get(a.id);
    if (p === undefined) return; // answered already by the sweep
    this.#pending.delete(a.id);
    p.resolve(a.type === 'claimed' ? { kind: 'claimed', result: a.result } : { kind: 'unrecorded', fault: a.fault });
  }

  #sweep(now: number): void {
    // Deadlines grow with insertion order (one wait for all claims), so the first live one ends the sweep.
    for (const [id, p] of this.#pending) {
      if (p.deadline + ANSWER_GRACE_MS > now) return;
      this.#pending.delete(id);
      p.resolve({ kind: 'unrecorded', fault: { kind: 'timeout', code: null, message: 'the install writer did not answer in time' } });
    }
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

function down(message: string): WriterAnswer {
  return { kind: 'unrecorded', fault: { kind: 'writer-down', code: null, message } };
}

/**
 * The thread's script. Built, it sits beside this file. Run from the TypeScript source (vitest),
 * the thread runs the built file instead, which `npm test` builds first.
 */
function threadScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./install-writer-thread.js', here);
  const built = new URL('../../dist/src/store/install-writer-thread.js', here);
  if (!existsSync(fileURLToPath(built))) {
    throw new Error(`${fileURLToPath(built)} is missing: the install writer thread runs the built file; run 'npm run build' first`);
  }
  return built;
}
