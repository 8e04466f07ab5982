/**
 * Policy benchmark: `npm run bench:policy`.
 *
 * 1. A child process fills a temporary SQLite file (10,000 root groups, 100,000 users,
 *    1,000,000 numbers, 50,000 licensed installs) so that its memory does not count below.
 * 2. This process loads the snapshot (loadSnapshot) and reports time, heap and RSS after a GC.
 * 3. Decisions/s on one core for a REGISTER/INVITE mix drawn over all 1,000,000 numbers and unknown ones.
 * 4. Latency per decision: every decision of a second run timed on its own with
 *    process.hrtime.bigint(); the figures include the timer's own cost, printed alongside.
 * 5. `licenses show` in-process: licenseReport(db, group, now) for random projects.
 *
 * Targets are printed next to the figures. The machine may be shared: wall-clock figures then
 * include time the process was not running, so decisions/s is also given per CPU-second.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateInvite } from '../src/policy/evaluate-invite.js';
import { evaluateRegister } from '../src/policy/evaluate-register.js';
import type { InviteFacts, RegisterFacts } from '../src/policy/request-facts.js';
import type { SnapshotIndex } from '../src/policy/snapshot-builder.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { licenseReport } from '../src/store/license-report.js';
import { loadSnapshot } from '../src/store/snapshot-loader.js';
import { prng } from './bench-prng.js';

const GROUPS = 10_000;
const USERS_PER_GROUP = 10;
const NUMBERS = 1_000_000;
const INSTALLS_PER_GROUP = 5;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
const THROUGHPUT_DECISIONS = 5_000_000;
const LATENCY_SAMPLES = 1_000_000;
const REPORT_CALLS = 2_000;
/** Requests in the mix: about 2.4 M draws of known numbers, so each of the 1 M is drawn twice or more. */
const MIX_REQUESTS = 2_000_000;

const numberOf = (k: number): string => String(100_000_000 + k);

// ---------------------------------------------------------------- populate (child process)

function populate(path: string): void {
  const db = openDatabase(path, { create: true });
  // A throwaway file in a child process: a big page cache and no fsync make the fill fast.
  db.pragma('cache_size = -262144');
  db.pragma('synchronous = OFF');
  db.pragma('journal_mode = MEMORY');
  const rnd = prng(1);
  const insGroup = db.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
  const insLicense = db.prepare(`INSERT INTO licenses
    (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until, remind_days, updated_at)
    VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)`);
  const insUser = db.prepare(`INSERT INTO users
    (id, login, group_id, root_id, personal_numbers, personal_apps, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const insNumber = db.prepare('INSERT INTO numbers (id, number, user_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
  const insInstall = db.prepare(`INSERT INTO app_installs
    (instance_id, number_id, user_id, root_id, licensed, licensed_at, pn_provider, pn_prid, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, 'fcm', ?, ?, ?)`);
  db.transaction(() => {
    for (let g = 1; g <= GROUPS; g++) {
      insGroup.run(g, `project-${g}`, null, g, NOW);
      insGroup.run(GROUPS + g, `project-${g}/block`, g, g, NOW); // a sub-group: users sit anywhere in the tree
      const vn = 90 + Math.floor(rnd() * 40); // around the 100 numbers each tree gets: some are over
      const apps = Math.min(vn, 3 + Math.floor(rnd() * 6));
      const w = rnd();
      // 10% no window, 80% open, 5% expired, 5% not yet valid.
      const validity = w < 0.1 ? 0 : 1;
      const from = w < 0.95 ? NOW - 30 * DAY : NOW + 10 * DAY;
      const until = w < 0.9 ? NOW + 335 * DAY : w < 0.95 ? NOW - DAY : NOW + 375 * DAY;
      insLicense.run(g, vn, apps, validity, validity ? from : null, validity ? until : null, 30, NOW);
      for (let u = 0; u < USERS_PER_GROUP; u++) {
        const id = (g - 1) * USERS_PER_GROUP + u + 1;
        const capped = rnd() < 0.1;
        insUser.run(id, `user-${id}`, u % 2 === 0 ? g : GROUPS + g, g, capped ? 5 : null, capped ? 1 : null, NOW);
      }
    }
    // Numbers interleaved across trees in creation order, as real provisioning would be.
    for (let k = 0; k < NUMBERS; k++) {
      const g = (k % GROUPS) + 1;
      const u = Math.floor(k / GROUPS) % USERS_PER_GROUP;
      insNumber.run(k + 1, numberOf(k), (g - 1) * USERS_PER_GROUP + u + 1, g, NOW);
    }
    for (let g = 1; g <= GROUPS; g++) {
      for (let i = 0; i <= INSTALLS_PER_GROUP; i++) {
        const k = i * GROUPS + (g - 1); // the tree's i-th number
        const u = Math.floor(k / GROUPS) % USERS_PER_GROUP;
        const licensed = i < INSTALLS_PER_GROUP ? 1 : 0; // one refused install per tree, kept for its push
        const at = licensed ? NOW - (INSTALLS_PER_GROUP - i) * 1000 : null;
        insInstall.run(`inst-${k}`, k + 1, (g - 1) * USERS_PER_GROUP + u + 1, g, licensed, at, `prid-${k}`, NOW, NOW);
      }
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

// ---------------------------------------------------------------- measurement

/**
 * The request mix, as columns (a million request objects would weigh more than the snapshot):
 * 55% SIP REGISTER (5% of them de-REGISTER), 10% app REGISTER, 35% INVITE; 20% unknown numbers.
 * Known numbers are dealt from a shuffled deck of all 1,000,000 (reshuffled when it runs out), so
 * the run touches the whole snapshot, not a cache-warm corner of it; the facts object of a request
 * is built as the sidecar builds one per message.
 */
interface RequestMix {
  readonly size: number;
  /** 0 REGISTER, 1 de-REGISTER, 2 app REGISTER, 3 INVITE. */
  readonly kind: Uint8Array;
  /** The identity: index into `names`. */
  readonly who: Int32Array;
  /** INVITE: the callee (index into `names`); app REGISTER: the install (index into `installs`). */
  readonly other: Int32Array;
  /** Every known number, then the unknown ones. */
  readonly names: readonly string[];
  readonly installs: readonly string[];
  /** How many of the 1,000,000 numbers the mix uses at least once. */
  readonly distinctKnown: number;
}

const UNKNOWN_NAMES = 200_000;

function requestMix(count: number): RequestMix {
  const rnd = prng(2);
  const names = Array.from({ length: NUMBERS + UNKNOWN_NAMES }, (_, k) => (k < NUMBERS ? numberOf(k) : String(900_000_000 + (k - NUMBERS))));
  const installCount = Math.ceil(INSTALLS_PER_GROUP * GROUPS * 1.2);
  const installs = Array.from({ length: installCount }, (_, k) => `inst-${k}`);
  const deck = Int32Array.from({ length: NUMBERS }, (_, k) => k);
  let dealt = NUMBERS;
  const seen = new Uint8Array(NUMBERS);
  const known = (): number => {
    if (dealt === NUMBERS) {
      for (let i = NUMBERS - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const t = deck[i] as number;
        deck[i] = deck[j] as number;
        deck[j] = t;
      }
      dealt = 0;
    }
    const k = deck[dealt++] as number;
    seen[k] = 1;
    return k;
  };
  const pick = (): number => (rnd() < 0.8 ? known() : NUMBERS + Math.floor(rnd() * UNKNOWN_NAMES));
  const kind = new Uint8Array(count);
  const who = new Int32Array(count);
  const other = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.55) {
      kind[i] = rnd() < 0.05 ? 1 : 0;
      who[i] = pick();
    } else if (r < 0.65) {
      // Mostly licensed installs, some new ones: install k registers number k.
      const k = Math.floor(rnd() * installCount);
      kind[i] = 2;
      who[i] = k;
      other[i] = k;
    } else {
      kind[i] = 3;
      who[i] = pick();
      other[i] = pick();
    }
  }
  return { size: count, kind, who, other, names, installs, distinctKnown: seen.reduce((a, b) => a + b, 0) };
}

function decide(mix: RequestMix, i: number, snap: SnapshotIndex): boolean {
  const kind = mix.kind[i] as number;
  const who = mix.names[mix.who[i] as number] as string;
  if (kind === 3) {
    const facts: InviteFacts = { identity: who, callee: mix.names[mix.other[i] as number] as string, isMobileApp: false, installId: null };
    return evaluateInvite(facts, snap, NOW).kind === 'allow';
  }
  const app = kind === 2;
  const facts: RegisterFacts = { identity: who, isDeregister: kind === 1, isMobileApp: app, installId: app ? (mix.installs[mix.other[i] as number] as string) : null };
  return evaluateRegister(facts, snap, NOW).kind === 'allow';
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
const us = (ns: number): string => `${(ns / 1000).toFixed(2)} µs`;
const ms = (n: number): string => `${n.toFixed(3)} ms`;
const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
const ok = (pass: boolean): string => (pass ? 'ok' : 'MISSED');
const line = (label: string, figure: string, target = ''): void =>
  console.log(`${label.padEnd(34)}${figure.padEnd(52)}${target}`.trimEnd());

function measureBuild(db: Db): SnapshotIndex {
  gc();
  const rssBefore = process.memoryUsage().rss;
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const snap = loadSnapshot(db);
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const cpuUsed = cpuSeconds(process.cpuUsage(cpu));
  gc();
  const mem = process.memoryUsage();
  const s = snap.stats();
  const figure = `${seconds.toFixed(2)} s (CPU ${cpuUsed.toFixed(2)} s)`;
  line('snapshot build (loadSnapshot)', figure, `target < 3 s: ${ok(seconds < 3)}`);
  line('', `${s.groups} groups, ${s.users} users, ${s.numbers} numbers, ${s.installs} installs`);
  line('heap used after build (after gc)', mb(mem.heapUsed));
  const rssOk = ok(mem.rss < 400 * 1048576);
  line('RSS after build (after gc)', `${mb(mem.rss)} (${mb(rssBefore)} before)`, `target < 400 MB: ${rssOk}`);
  return snap;
}

function measureThroughput(snap: SnapshotIndex, mix: RequestMix): void {
  let allowed = 0;
  for (let i = 0; i < 500_000; i++) if (decide(mix, i % mix.size, snap)) allowed++; // JIT warm-up
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < THROUGHPUT_DECISIONS; i++) if (decide(mix, (i + 500_000) % mix.size, snap)) allowed++;
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const perCpu = THROUGHPUT_DECISIONS / cpuSeconds(process.cpuUsage(cpu));
  const rate = THROUGHPUT_DECISIONS / seconds;
  const figure = `${(rate / 1e6).toFixed(2)} M/s (${THROUGHPUT_DECISIONS / 1e6} M in ${seconds.toFixed(2)} s)`;
  line('decisions/s (one core)', figure, `target >= 1,000,000/s: ${ok(rate >= 1e6)}`);
  line('', `per CPU-second: ${(perCpu / 1e6).toFixed(2)} M/s (above wall time when the machine is shared)`);
  const share = ((allowed / (THROUGHPUT_DECISIONS + 500_000)) * 100).toFixed(0);
  line('', `mix: 55% REGISTER, 10% app REGISTER, 35% INVITE; 20% unknown; ${share}% allowed`);
  line('', `${(mix.size / 1e6).toFixed(1)} M requests drawn over ${mix.distinctKnown.toLocaleString('en-US')} of the ${NUMBERS.toLocaleString('en-US')} numbers`);
}

function measureLatency(snap: SnapshotIndex, mix: RequestMix): void {
  const overhead = new Float64Array(100_000);
  for (let i = 0; i < overhead.length; i++) {
    const a = process.hrtime.bigint();
    overhead[i] = Number(process.hrtime.bigint() - a);
  }
  overhead.sort();
  const lat = new Float64Array(LATENCY_SAMPLES);
  let allowed = 0;
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const at = (i * 7919) % mix.size; // another walk through the mix than the throughput run's
    const a = process.hrtime.bigint();
    if (decide(mix, at, snap)) allowed++;
    lat[i] = Number(process.hrtime.bigint() - a);
  }
  lat.sort();
  const p99 = percentile(lat, 0.99);
  const figure = `p50 ${us(percentile(lat, 0.5))}, p99 ${us(p99)}, p999 ${us(percentile(lat, 0.999))}`;
  line('latency per decision', figure, `target p99 < 5 µs: ${ok(p99 < 5000)}`);
  line('', `each of ${LATENCY_SAMPLES / 1e6} M decisions (${allowed} allowed) timed alone with hrtime.bigint;`);
  const timer = `p50 ${us(percentile(overhead, 0.5))}, p99 ${us(percentile(overhead, 0.99))}`;
  line('', `includes the timer's own cost: ${timer}`);
}

function measureLicensesShow(db: Db): void {
  const rnd = prng(3);
  let t = process.hrtime.bigint();
  licenseReport(db, 'project-1', NOW);
  const cold = Number(process.hrtime.bigint() - t) / 1e6;
  const times = new Float64Array(REPORT_CALLS);
  for (let i = 0; i < REPORT_CALLS; i++) {
    const name = `project-${1 + Math.floor(rnd() * GROUPS)}`;
    t = process.hrtime.bigint();
    licenseReport(db, name, NOW);
    times[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
  times.sort();
  const p99 = percentile(times, 0.99);
  const figure = `p50 ${ms(percentile(times, 0.5))}, p99 ${ms(p99)}, max ${ms(times[times.length - 1] as number)}`;
  line('licenses show (licenseReport)', figure, `target < 20 ms: ${ok(p99 < 20 && cold < 20)}`);
  line('', `first call (prepares statements) ${ms(cold)}; ${REPORT_CALLS} random projects`);
}

function measure(path: string): void {
  const db = openDatabase(path);
  try {
    const snap = measureBuild(db);
    const mix = requestMix(MIX_REQUESTS);
    measureThroughput(snap, mix);
    measureLatency(snap, mix);
    measureLicensesShow(db);
  } finally {
    db.close();
  }
}

function main(): void {
  if (process.argv[2] === '--populate') {
    populate(process.argv[3] as string);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-bench-'));
  const path = join(dir, 'bench.db');
  try {
    const t = process.hrtime.bigint();
    const self = fileURLToPath(import.meta.url);
    const child = spawnSync(process.execPath, [self, '--populate', path], { stdio: 'inherit' });
    if (child.status !== 0) throw new Error(`populating the database failed (exit ${child.status})`);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(`sipwarden policy benchmark — Node ${process.version}, one core\n`);
    const load = loadavg()[0] ?? 0;
    const shared = load > 1 ? 'busy: wall-clock figures include waiting for a CPU' : '';
    line('machine load (1-min average)', `${load.toFixed(1)} on ${availableParallelism()} CPUs`, shared);
    line('DB populate (child process)', `${seconds.toFixed(1)} s, ${mb(statSync(path).size)} file`);
    const users = GROUPS * USERS_PER_GROUP;
    const installs = GROUPS * INSTALLS_PER_GROUP;
    line('', `${GROUPS} root groups, ${users} users, ${NUMBERS} numbers, ${installs} licensed installs`);
    measure(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
