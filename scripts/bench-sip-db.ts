/**
 * The licence data of the SIP benchmark and the plain REGISTER / INVITE injection files.
 *
 * Numbers are `300000 + k`. 1,000 root projects; number k belongs to project (k mod 1000) + 1, so
 * a project's numbers are interleaved in creation order as real provisioning would be:
 *   k      0 –  89,999  register: plain devices (every ladder) and, for the first 20 of each
 *                        project, a licensed mobile-app install (the mixed load's known apps)
 *   k 90,000 –  99,999  INVITE callees, never registered (the registrar sends those calls to its
 *                        fallback, a SIPp UAS answering 200)
 *   k 100,000 – 109,999  devices that authenticate with digest (numbers 400000 – 409999; the
 *                        registrar challenges that prefix only)
 *   k 150,000 – 150,199  the `lock` project: numbers with free app licences for the new-install
 *                        claims of the lock part (bench-sip-lock.ts), apart from the bursts
 *   k 200,000 – …       the `renewal` project: one install per number, licence expired, installs
 *                        released (licensed = 0), as after a long lapse; a renewal re-claims them all
 *   k 300,000 – …       the `burst` project: numbers with free app licences for new-install claims
 * 1 project in 100 has an expired window: about 1 % of the mixed and plain REGISTERs are refused.
 * Each of the 1,000 projects may use 50 app installs (20 taken): new installs are granted until
 * that is used up, then refused; the mixed load reads what is left from the database.
 */
import { writeFileSync } from 'node:fs';
import { createFirstOperator } from '../src/store/operators.js';
import { openDatabase } from '../src/store/database.js';
import { prng } from './bench-prng.js';

export const GROUPS = 1_000;
export const REGISTERING = 90_000;
export const CALLEES = 10_000;
export const DIGEST_FROM = 100_000;
export const DIGEST_NUMBERS = 10_000;
/** Numbers starting with this are the digest devices (the registrar's challenge prefix). */
export const DIGEST_PREFIX = '40';
export const KNOWN_INSTALLS_PER_GROUP = 20;
export const APPS_PER_GROUP = 50;
export const RENEWAL_FROM = 200_000;
export const BURST_FROM = 300_000;
export const RENEWAL_GROUP = 'renewal';
export const RENEWAL_GROUP_ID = GROUPS + 1;
export const BURST_GROUP = 'burst';
export const BURST_GROUP_ID = GROUPS + 2;
export const LOCK_FROM = 150_000;
/** Numbers, and free app licences, of the lock project. */
export const LOCK_NUMBERS = 200;
export const LOCK_GROUP = 'lock';
export const LOCK_GROUP_ID = GROUPS + 3;
const USERS_PER_GROUP = 10;
const EXPIRED_EVERY = 100;
const DAY = 86_400_000;

export const numberOf = (k: number): string => String(300_000 + k);
export const groupOf = (k: number): number => (k % GROUPS) + 1;
export const isExpiredGroup = (g: number): boolean => g % EXPIRED_EVERY === 0;
export const isRefused = (k: number): boolean => isExpiredGroup(groupOf(k));
/** RFC 5626 instance of install `n` (deterministic, never a real device's). */
export const instanceOf = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
/** The known (licensed) install of number k, when it has one. */
export const knownInstallOf = (k: number): number | null => (k < REGISTERING && Math.floor(k / GROUPS) < KNOWN_INSTALLS_PER_GROUP ? k : null);

export interface DataSizes {
  /** Installs of the renewal project (its numbers, its app licences). */
  readonly renewalInstalls: number;
  /** Numbers with free app licences in the burst project. */
  readonly burstInstalls: number;
}

export interface Populated {
  /** Token of the database's operator `admin`, for CLI changes during the run (the renewal). */
  readonly token: string;
  readonly numbers: number;
}

/** Creates the database with plain SQL in one transaction; the schema's triggers keep the counters. */
export function populate(path: string, now: number, sizes: DataSizes): Populated {
  const db = openDatabase(path, { create: true });
  try {
    const insGroup = db.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, NULL, ?, ?)');
    const insLicense = db.prepare(`INSERT INTO licenses
      (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until, remind_days, updated_at)
      VALUES (?, 1, ?, ?, 1, ?, ?, 30, ?)`);
    const insUser = db.prepare('INSERT INTO users (id, login, group_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
    const insNumber = db.prepare('INSERT INTO numbers (id, number, user_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
    const insInstall = db.prepare(`INSERT INTO app_installs
      (instance_id, number_id, user_id, root_id, licensed, licensed_at, pn_provider, pn_prid, pn_param, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, 'fcm', ?, 'bench.intercom', ?, ?)`);
    let numberId = 0;
    const addNumber = (k: number, g: number, userId: number): number => {
      insNumber.run(++numberId, numberOf(k), userId, g, now);
      return numberId;
    };
    const addProject = (g: number, name: string, numbers: number, apps: number, expired: boolean): void => {
      insGroup.run(g, name, g, now);
      insLicense.run(g, numbers, apps, now - (expired ? 400 : 30) * DAY, expired ? now - DAY : now + 335 * DAY, now);
      for (let u = 0; u < USERS_PER_GROUP; u++) insUser.run((g - 1) * USERS_PER_GROUP + u + 1, `user-${g}-${u}`, g, g, now);
    };
    const userOf = (g: number, k: number): number => (g - 1) * USERS_PER_GROUP + (Math.floor(k / GROUPS) % USERS_PER_GROUP) + 1;
    db.transaction(() => {
      const perGroup = (REGISTERING + CALLEES + DIGEST_NUMBERS) / GROUPS;
      for (let g = 1; g <= GROUPS; g++) addProject(g, `project-${g}`, perGroup, APPS_PER_GROUP, isExpiredGroup(g));
      for (let k = 0; k < REGISTERING + CALLEES; k++) {
        const id = addNumber(k, groupOf(k), userOf(groupOf(k), k));
        if (knownInstallOf(k) !== null) insInstall.run(instanceOf(k), id, userOf(groupOf(k), k), groupOf(k), 1, now - DAY, `prid-${k}`, now - DAY, now - DAY);
      }
      for (let k = DIGEST_FROM; k < DIGEST_FROM + DIGEST_NUMBERS; k++) addNumber(k, groupOf(k), userOf(groupOf(k), k));
      // The renewal project: expired, its installs released after the lapse (licensed = 0, push parameters kept).
      const renewal = RENEWAL_GROUP_ID;
      addProject(renewal, RENEWAL_GROUP, sizes.renewalInstalls, sizes.renewalInstalls, true);
      for (let i = 0; i < sizes.renewalInstalls; i++) {
        const k = RENEWAL_FROM + i;
        const user = (renewal - 1) * USERS_PER_GROUP + (i % USERS_PER_GROUP) + 1;
        const id = addNumber(k, renewal, user);
        insInstall.run(instanceOf(k), id, user, renewal, 0, null, `prid-${k}`, now - 60 * DAY, now - 60 * DAY);
      }
      const burst = BURST_GROUP_ID;
      addProject(burst, BURST_GROUP, sizes.burstInstalls, sizes.burstInstalls, false);
      for (let i = 0; i < sizes.burstInstalls; i++) addNumber(BURST_FROM + i, burst, (burst - 1) * USERS_PER_GROUP + (i % USERS_PER_GROUP) + 1);
      addProject(LOCK_GROUP_ID, LOCK_GROUP, LOCK_NUMBERS, LOCK_NUMBERS, false);
      for (let i = 0; i < LOCK_NUMBERS; i++) addNumber(LOCK_FROM + i, LOCK_GROUP_ID, (LOCK_GROUP_ID - 1) * USERS_PER_GROUP + (i % USERS_PER_GROUP) + 1);
    })();
    const admin = createFirstOperator(db, now);
    if (!admin.ok) throw new Error(`bench database: ${admin.failure.message}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { token: admin.value.token, numbers: numberId };
  } finally {
    db.close();
  }
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export interface BenchData {
  /** SIPp injection file of bench-register.xml (number), shuffled. */
  readonly registerCsv: string;
  readonly registerRows: number;
  /** How many of those rows the sidecar refuses (expired window). */
  readonly registerRefused: number;
  /** How many of the first `calls` REGISTERs of one SIPp run the sidecar should refuse (SEQUENTIAL wraps round). */
  refusedWithin(calls: number): number;
  /** SIPp injection file of bench-uac-invite.xml (caller;callee), allowed numbers only. */
  readonly inviteCsv: string;
  readonly inviteRows: number;
  /** Some numbers of the REGISTER file, for the in-process measurements. */
  readonly sampleNumbers: readonly string[];
  readonly sampleCalls: readonly (readonly [string, string])[];
}

/** Writes the injection files (SIPp reads them whole at start; SEQUENTIAL restarts at line 1 each run). */
export function writeInjection(dir: string, inviteRows: number): BenchData {
  const rnd = prng(7);
  const registering = shuffle(Array.from({ length: REGISTERING }, (_, k) => k), rnd);
  const registerCsv = `${dir}/register.csv`;
  writeFileSync(registerCsv, `SEQUENTIAL\n${registering.map(numberOf).join('\n')}\n`);
  const allowedCallers = registering.filter((k) => !isRefused(k));
  const callees = Array.from({ length: CALLEES }, (_, i) => REGISTERING + i).filter((k) => !isRefused(k));
  const calls: [string, string][] = [];
  for (let i = 0; i < inviteRows; i++) {
    const caller = allowedCallers[Math.floor(rnd() * allowedCallers.length)] as number;
    const callee = callees[Math.floor(rnd() * callees.length)] as number;
    calls.push([numberOf(caller), numberOf(callee)]);
  }
  const inviteCsv = `${dir}/invite.csv`;
  writeFileSync(inviteCsv, `SEQUENTIAL\n${calls.map((c) => c.join(';')).join('\n')}\n`);
  const refusedPrefix = new Uint32Array(registering.length + 1);
  registering.forEach((k, i) => (refusedPrefix[i + 1] = (refusedPrefix[i] as number) + (isRefused(k) ? 1 : 0)));
  const rows = registering.length;
  const total = refusedPrefix[rows] as number;
  return {
    registerCsv,
    registerRows: rows,
    registerRefused: total,
    refusedWithin: (n) => Math.floor(n / rows) * total + (refusedPrefix[n % rows] as number),
    inviteCsv,
    inviteRows,
    sampleNumbers: registering.slice(0, 1000).map(numberOf),
    sampleCalls: calls.slice(0, 1000),
  };
}
