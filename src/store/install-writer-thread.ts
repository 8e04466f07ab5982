import { parentPort, workerData } from 'node:worker_threads';
import type { InstallInput, StoreFault } from '../policy/install-ledger.js';
import { claimInstall, recordRefusedInstall, touchInstall } from './app-installs.js';
import { openDatabase } from './database.js';
import type { ClaimAnswer, ClaimRequest, FromWriter, ToWriter, WriterSettings } from './install-writer-protocol.js';
import { isStoreWideFault, storeFault } from './store-fault.js';

/*
 * The install writer thread: the only writer of the SIP path. Claims that arrive together are
 * taken in one `BEGIN IMMEDIATE` transaction (each re-checks the limits in its own savepoint, so
 * claims stay exact across several `serve` processes on one database), each waiting for the write
 * lock until its own deadline. Records (last seen, refused installs) are
 * coalesced per install and written after the claims, with a short wait; while the store cannot be
 * written they are kept, up to a bound.
 *
 * Group commit: a COMMIT costs more than the claims in it (about 200 µs of WAL writes against
 * 50–100 µs per claim), so a claim transaction starts at most once per COMMIT_GAP_MS. A claim
 * arriving at an idle writer is taken at once; during a burst of new installs (a `license.renewed`
 * push waking every app of a project) the claims of the last millisecond share one COMMIT, which
 * cuts the thread's CPU per claim by half or more on a 2-core box where it competes with the loop.
 */
const COMMIT_GAP_MS = 2;
/** The longest single wait for the write lock before the claims' deadlines are checked on the clock. */
const LOCK_WAIT_STEP_MS = 50;

const port = parentPort;
if (port === null) throw new Error('install-writer-thread runs as a worker thread');
const settings = workerData as WriterSettings;
const db = openDatabase(settings.path, { busyTimeoutMs: 0 });
for (const pragma of settings.pragmas) db.pragma(pragma);

const claims: ClaimRequest[] = [];
const touches = new Map<string, InstallInput>();
const refused = new Map<string, InstallInput>();
let recordsDue = false;
let seq = 0;
let closing = false;
let scheduled = false;
let dropped = 0;
/** performance.now() when the last claim transaction ended. */
let lastClaimsAt = Number.NEGATIVE_INFINITY;

const post = (m: FromWriter): void => port.postMessage(m);
const key = (i: InstallInput): string => `${i.instanceId}\u0000${i.number}`;

function keep(into: Map<string, InstallInput>, items: readonly InstallInput[]): void {
  for (const item of items) {
    const k = key(item);
    into.delete(k); // the newest goes last, so a full map drops the longest-waiting first
    into.set(k, item);
  }
}

function bound(): void {
  for (const map of [touches, refused]) {
    while (touches.size + refused.size > settings.maxPendingRecords && map.size > 0) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      dropped++;
    }
  }
}

/** Answers, with `fault`, the claims whose deadline has passed; returns the others. */
function answerLate(batch: readonly ClaimRequest[], fault: StoreFault): ClaimRequest[] {
  const now = Date.now();
  const live: ClaimRequest[] = [];
  const late: ClaimAnswer[] = [];
  for (const c of batch) {
    if (c.deadline > now) live.push(c);
    else late.push({ type: 'unrecorded', id: c.id, fault });
  }
  if (late.length > 0) post({ type: 'answers', transaction: false, answers: late });
  return live;
}

/** The claims in one transaction; a fault of the store as a whole (the lock, the file) is thrown. */
function claimTogether(live: readonly ClaimRequest[]): ClaimAnswer[] {
  return db
    .transaction((): ClaimAnswer[] =>
      live.map((c): ClaimAnswer => {
        try {
          return { type: 'claimed', id: c.id, result: claimInstall(db, c.input) };
        } catch (err) {
          // A fault of the store fails the whole batch (rolled back by the caller, nothing granted).
          if (isStoreWideFault(err)) throw err;
          return { type: 'unrecorded', id: c.id, fault: storeFault(err) };
        }
      }),
    )
    .immediate();
}

/**
 * Takes the batch's claims in one transaction, each waiting for the write lock until its own
 * deadline: while another process holds the lock, the claims whose deadline passes are answered
 * with the lock fault and the rest keep waiting. The wait is measured on the clock, in steps of
 * at most LOCK_WAIT_STEP_MS, because SQLite's busy handler counts the sleeps it asked for, not the
 * time that passed: a signal (a profiler's, a debugger's) cuts each sleep short, and a 2 s wait
 * ended after 40 ms.
 */
function claimBatch(batch: ClaimRequest[]): void {
  let live = answerLate(batch, { kind: 'timeout', code: null, message: 'the claim waited past its deadline' });
  while (live.length > 0) {
    let earliest = Number.POSITIVE_INFINITY;
    for (const c of live) if (c.deadline < earliest) earliest = c.deadline;
    db.pragma(`busy_timeout = ${Math.max(1, Math.min(LOCK_WAIT_STEP_MS, earliest - Date.now()))}`);
    try {
      const answers = claimTogether(live);
      lastClaimsAt = performance.now();
      // Only after COMMIT: a claim is answered granted once its licence is on disk.
      post({ type: 'answers', transaction: true, answers });
      return;
    } catch (err) {
      const fault = storeFault(err);
      lastClaimsAt = performance.now();
      if (fault.kind !== 'locked') {
        post({ type: 'answers', transaction: true, answers: live.map((c): ClaimAnswer => ({ type: 'unrecorded', id: c.id, fault })) });
        return;
      }
      live = answerLate(live, fault);
    }
  }
}

function writeRecords(): void {
  recordsDue = false;
  const pending = touches.size + refused.size;
  if (pending === 0) {
    post({ type: 'recorded', seq, written: 0, pending: 0, dropped, fault: null });
    dropped = 0;
    return;
  }
  db.pragma(`busy_timeout = ${settings.recordWaitMs}`);
  try {
    db.transaction(() => {
      for (const input of refused.values()) recordRefusedInstall(db, input);
      for (const input of touches.values()) touchInstall(db, input);
    }).immediate();
    touches.clear();
    refused.clear();
    post({ type: 'recorded', seq, written: pending, pending: 0, dropped, fault: null });
  } catch (err) {
    bound();
    post({ type: 'recorded', seq, written: 0, pending: touches.size + refused.size, dropped, fault: storeFault(err) });
  }
  dropped = 0;
}

function drain(): void {
  scheduled = false;
  if (claims.length > 0) claimBatch(claims.splice(0));
  if (recordsDue || closing) writeRecords();
  if (closing) {
    db.close();
    post({ type: 'closed' });
    port?.close();
  }
}

post({ type: 'ready' });

/** Drains on the next turn, or once COMMIT_GAP_MS has passed since the last claim transaction. */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  const gap = claims.length > 0 && !closing ? lastClaimsAt + COMMIT_GAP_MS - performance.now() : 0;
  if (gap > 0) setTimeout(drain, gap);
  else setImmediate(drain);
}

port.on('message', (m: ToWriter) => {
  if (m.type === 'claims') for (const c of m.claims) claims.push(c);
  else if (m.type === 'record') {
    keep(refused, m.refused);
    keep(touches, m.touches);
    bound();
    seq = m.seq;
    recordsDue = true;
  } else closing = true;
  schedule();
});
