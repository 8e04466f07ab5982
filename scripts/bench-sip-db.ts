/**
 * The licence data of the SIP benchmark and the SIPp injection files drawn from it.
 *
 * 100,000 numbers in 1,000 root projects (100 each, interleaved in creation order as real
 * provisioning would be), restrictions on, a validity window open around now; 1 project in 100
 * has an expired window, so about 1 % of the REGISTERs are refused (and logged at info, the
 * production level). The last 10 % of the numbers never REGISTER: they are the callees of the
 * INVITE load, which the registrar (no binding) sends to its fallback, the SIPp UAS.
 */
import { writeFileSync } from 'node:fs';
import { openDatabase } from '../src/store/database.js';

export const NUMBERS = 100_000;
export const GROUPS = 1_000;
const USERS_PER_GROUP = 10;
const EXPIRED_EVERY = 100;
const CALLEE_FROM = 90_000;
const DAY = 86_400_000;

export const numberOf = (k: number): string => String(300_000 + k);
const groupOf = (k: number): number => (k % GROUPS) + 1;
export const isRefused = (k: number): boolean => groupOf(k) % EXPIRED_EVERY === 0;

export interface BenchData {
  /** SIPp injection file of bench-register.xml (number), shuffled. */
  readonly registerCsv: string;
  readonly registerRows: number;
  /** How many of those rows the sidecar refuses (expired window). */
  readonly registerRefused: number;
  /** How many of the first `calls` REGISTERs of one SIPp run the sidecar should refuse. */
  refusedWithin(calls: number): number;
  /** SIPp injection file of uac-invite.xml (caller;callee), allowed numbers only. */
  readonly inviteCsv: string;
  readonly inviteRows: number;
  /** Some numbers of the REGISTER file, for the in-process measurements. */
  readonly sampleNumbers: readonly string[];
  readonly sampleCalls: readonly (readonly [string, string])[];
}

/** Deterministic PRNG (mulberry32): the same data and order on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Creates the database with plain SQL in one transaction; the schema's triggers keep the counters. */
export function populate(path: string, now: number): void {
  const db = openDatabase(path, { create: true });
  try {
    const insGroup = db.prepare('INSERT INTO groups (id, name, parent_id, root_id, created_at) VALUES (?, ?, NULL, ?, ?)');
    const insLicense = db.prepare(`INSERT INTO licenses
      (group_id, restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until, remind_days, updated_at)
      VALUES (?, 1, ?, ?, 1, ?, ?, 30, ?)`);
    const insUser = db.prepare('INSERT INTO users (id, login, group_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
    const insNumber = db.prepare('INSERT INTO numbers (id, number, user_id, root_id, created_at) VALUES (?, ?, ?, ?, ?)');
    const perGroup = NUMBERS / GROUPS;
    db.transaction(() => {
      for (let g = 1; g <= GROUPS; g++) {
        insGroup.run(g, `project-${g}`, g, now);
        const expired = g % EXPIRED_EVERY === 0;
        const from = now - (expired ? 400 : 30) * DAY;
        const until = expired ? now - DAY : now + 335 * DAY;
        insLicense.run(g, perGroup, 10, from, until, now);
        for (let u = 0; u < USERS_PER_GROUP; u++) {
          const id = (g - 1) * USERS_PER_GROUP + u + 1;
          insUser.run(id, `user-${id}`, g, g, now);
        }
      }
      for (let k = 0; k < NUMBERS; k++) {
        const g = groupOf(k);
        const u = Math.floor(k / GROUPS) % USERS_PER_GROUP;
        insNumber.run(k + 1, numberOf(k), (g - 1) * USERS_PER_GROUP + u + 1, g, now);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
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

/** Writes the injection files (SIPp reads them whole at start; SEQUENTIAL restarts at line 1 each run). */
export function writeInjection(dir: string, inviteRows: number): BenchData {
  const rnd = prng(7);
  const registering = shuffle(Array.from({ length: CALLEE_FROM }, (_, k) => k), rnd);
  const registerCsv = `${dir}/register.csv`;
  writeFileSync(registerCsv, `SEQUENTIAL\n${registering.map(numberOf).join('\n')}\n`);
  const allowedCallers = registering.filter((k) => !isRefused(k));
  const callees = Array.from({ length: NUMBERS - CALLEE_FROM }, (_, i) => CALLEE_FROM + i).filter((k) => !isRefused(k));
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
    registerRows: registering.length,
    registerRefused: total,
    refusedWithin: (calls) => Math.floor(calls / rows) * total + (refusedPrefix[calls % rows] as number),
    inviteCsv,
    inviteRows,
    sampleNumbers: registering.slice(0, 1000).map(numberOf),
    sampleCalls: calls.slice(0, 1000),
  };
}
