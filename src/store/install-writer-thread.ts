import { parentPort, workerData } from 'node:worker_threads';
import type { InstallInput } from '../policy/install-ledger.js';
import { claimInstall, recordRefusedInstall, touchInstall } from './app-installs.js';
import { openDatabase } from './database.js';
import type { ClaimAnswer, ClaimRequest, FromWriter, ToWriter, WriterSettings } from './install-writer-protocol.js';
import { isStoreWideFault, storeFault } from './store-fault.js';

/*
 * The install writer thread: the only writer of the SIP path. Claims that arrive together are
 * taken in one `BEGIN IMMEDIATE` transaction (each re-checks the limits in its own savepoint, so
 * claims stay exact across several `serve` processes on one database), waiting for the write lock
 * at most until the earliest deadline of the batch. Records (last seen, refused installs) are
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

function claimBatch(batch: ClaimRequest[]): void {
  const now = Date.now();
  const live: ClaimRequest[] = [];
  const late: ClaimAnswer[] = [];
  for (const c of batch) {
    if (c.deadline > now) live.push(c);
    else late.push({ type: 'unrecorded', id: c.id, fault: { kind: 'timeout', code: null, message: 'the claim waited past its deadline' } });
  }
  if (late.length > 0) post({ type: 'answers', transaction: false, answers: late });
  if (live.length === 0) return;
  let earliest = Number.POSITIVE_INFINITY;
  for (const c of live) if (c.deadline < earliest) earliest = c.deadline;
  db.pragma(`busy_timeout = ${Math.max(1, earliest - now)}`);
  let answers: ClaimAnswer[];
  try {
    answers = db
      .transaction((): ClaimAnswer[] =>
        live.map((c): ClaimAnswer => {
          try {
            return { type: 'claimed', id: c.id, result: claimInstall(db, c.input) };
          } catch (err) {
            // A fault of the store fails the whole batch (rolled back below, nothing granted).
            if (isStoreWideFault(err)) throw err;
            return { type: 'unrecorded', id: c.id, fault: storeFault(err) };
          }
        }),
      )
      .immediate();
  } catch (err) {
    const fault = storeFault(err);
    answers = live.map((c): ClaimAnswer => ({ type: 'unrecorded', id: c.id, fault }));
  }
  lastClaimsAt = performance.now();
  // Only after COMMIT: a claim is answered granted once its licence is on disk.
  post({ type: 'answers', transaction: true, answers });
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
