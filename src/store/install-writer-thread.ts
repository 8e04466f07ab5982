import { parentPort, workerData } from 'node:worker_threads';
import type { InstallInput } from '../policy/install-ledger.js';
import { claimInstall, recordRefusedInstall, touchInstall } from './app-installs.js';
import { openDatabase } from './database.js';
import type { FromWriter, ToWriter, WriterSettings } from './install-writer-protocol.js';
import { isStoreWideFault, storeFault } from './store-fault.js';

/*
 * The install writer thread: the only writer of the SIP path. Claims that arrive together are
 * taken in one `BEGIN IMMEDIATE` transaction (each re-checks the limits in its own savepoint, so
 * claims stay exact across several `serve` processes on one database), waiting for the write lock
 * at most until the earliest deadline of the batch. Records (last seen, refused installs) are
 * coalesced per install and written after the claims, with a short wait; while the store cannot be
 * written they are kept, up to a bound.
 */

const port = parentPort;
if (port === null) throw new Error('install-writer-thread runs as a worker thread');
const settings = workerData as WriterSettings;
const db = openDatabase(settings.path, { busyTimeoutMs: 0 });
for (const pragma of settings.pragmas) db.pragma(pragma);

type ClaimRequest = Extract<ToWriter, { type: 'claim' }>;

const claims: ClaimRequest[] = [];
const touches = new Map<string, InstallInput>();
const refused = new Map<string, InstallInput>();
let recordsDue = false;
let seq = 0;
let closing = false;
let scheduled = false;
let dropped = 0;

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
  for (const c of batch) {
    if (c.deadline > now) live.push(c);
    else post({ type: 'unrecorded', id: c.id, fault: { kind: 'timeout', code: null, message: 'the claim waited past its deadline' } });
  }
  if (live.length === 0) return;
  const wait = Math.max(1, Math.min(...live.map((c) => c.deadline)) - now);
  db.pragma(`busy_timeout = ${wait}`);
  let answers: FromWriter[];
  try {
    answers = db
      .transaction((): FromWriter[] =>
        live.map((c): FromWriter => {
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
    answers = live.map((c): FromWriter => ({ type: 'unrecorded', id: c.id, fault }));
  }
  // Only after COMMIT: a claim is answered granted once its licence is on disk.
  for (const a of answers) post(a);
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

port.on('message', (m: ToWriter) => {
  if (m.type === 'claim') claims.push(m);
  else if (m.type === 'record') {
    keep(refused, m.refused);
    keep(touches, m.touches);
    bound();
    seq = m.seq;
    recordsDue = true;
  } else closing = true;
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
