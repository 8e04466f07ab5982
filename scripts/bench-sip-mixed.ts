/**
 * The mixed REGISTER load of `bench:sip`, as an intercom server meets it: plain SIP devices, the
 * residents' mobile app (RFC 8599 push parameters and an RFC 5626 +sip.instance in its Contact) —
 * mostly known installs refreshing, some new installs that take a licence — and devices that
 * authenticate with digest (a 401 challenge, then the REGISTER with credentials, RFC 3261 §22).
 *
 * Rows go to test/fixtures/sipp/bench-mixed-register.xml (kind;number;instance;prid;credentials).
 * What the sidecar must refuse is computed from the rows and the app licences each project has
 * left (read from the database before the step), so a clean step has exactly those 403s: the
 * expired projects' requests of every kind, and new installs beyond a project's free licences.
 */
import { writeFileSync } from 'node:fs';
import type { Db } from '../src/store/database.js';
import { DIGEST_FROM, DIGEST_NUMBERS, GROUPS, KNOWN_INSTALLS_PER_GROUP, REGISTERING, groupOf, instanceOf, isExpiredGroup, numberOf } from './bench-sip-db.js';

/** Shares of the mix (they add up to 1). */
export const MIX = { plain: 0.6, digest: 0.2, knownApp: 0.15, newApp: 0.05 } as const;

export type MixedKind = 'plain' | 'auth' | 'app';

export interface MixedRow {
  readonly kind: MixedKind;
  /** Number index (bench-sip-db.ts layout). */
  readonly k: number;
  /** Install index for `instanceOf` (app rows), else null. */
  readonly install: number | null;
  /** A new install: it claims a licence, or is refused when its project has none left. */
  readonly isNew: boolean;
  /** The project (root group id) the number belongs to. */
  readonly group: number;
}

/** New installs are numbered from here, apart from the known installs (numbered by their k). */
export const NEW_INSTALLS_FROM = 1_000_000;

export interface MixedDraw {
  readonly rows: readonly MixedRow[];
  /** The next free new-install index, for the next draw. */
  readonly nextInstall: number;
}

/** `calls` rows of the mix, drawn with `rnd`; new installs numbered from `nextInstall`. */
export function drawMixedRows(calls: number, rnd: () => number, nextInstall: number, mix: typeof MIX = MIX): MixedDraw {
  const rows: MixedRow[] = [];
  let next = nextInstall;
  const pick = (n: number): number => Math.floor(rnd() * n);
  for (let i = 0; i < calls; i++) {
    const r = rnd();
    if (r < mix.plain) {
      const k = pick(REGISTERING);
      rows.push({ kind: 'plain', k, install: null, isNew: false, group: groupOf(k) });
    } else if (r < mix.plain + mix.digest) {
      const k = DIGEST_FROM + pick(DIGEST_NUMBERS);
      rows.push({ kind: 'auth', k, install: null, isNew: false, group: groupOf(k) });
    } else if (r < mix.plain + mix.digest + mix.knownApp) {
      const k = pick(KNOWN_INSTALLS_PER_GROUP * GROUPS); // the numbers that have a licensed install
      rows.push({ kind: 'app', k, install: k, isNew: false, group: groupOf(k) });
    } else {
      const k = pick(REGISTERING);
      rows.push({ kind: 'app', k, install: next++, isNew: true, group: groupOf(k) });
    }
  }
  return { rows, nextInstall: next };
}

/**
 * The 403s the sidecar gives these rows: every request of an expired project, and the new installs
 * of a project beyond `freeApps(group)` (claims are counted per project, whatever their order).
 */
export function expectedMixedRefusals(rows: readonly MixedRow[], freeApps: (group: number) => number): number {
  let refused = 0;
  const claims = new Map<number, number>();
  for (const row of rows) {
    if (isExpiredGroup(row.group)) refused++;
    else if (row.isNew) claims.set(row.group, (claims.get(row.group) ?? 0) + 1);
  }
  for (const [group, n] of claims) refused += Math.max(0, n - Math.max(0, freeApps(group)));
  return refused;
}

/** Free app licences per project now (mobile_apps − apps_used), read from the sidecar's database. */
export function readFreeApps(db: Db): (group: number) => number {
  const free = new Map<number, number>();
  for (const r of db.prepare('SELECT group_id AS g, mobile_apps - apps_used AS free FROM licenses').all() as { g: number; free: number }[]) free.set(r.g, r.free);
  return (group) => free.get(group) ?? 0;
}

/** SIPp injection file for bench-mixed-register.xml: kind;number;instance;prid;credentials. */
export function writeMixedCsv(path: string, rows: readonly MixedRow[]): void {
  const lines = rows.map((r) => {
    const number = numberOf(r.k);
    // SIPp expands a whole [authentication ...] keyword taken from the injection file, not one built around [field1].
    if (r.kind === 'auth') return `auth;${number};-;-;[authentication username=${number} password=pw-${number}]`;
    if (r.install === null) return `${r.kind};${number};-;-;-`;
    return `app;${number};${instanceOf(r.install)};prid-${r.install};-`;
  });
  writeFileSync(path, `SEQUENTIAL\n${lines.join('\n')}\n`);
}

/** Counts by kind, for the printed line of a step. */
export function describeMix(rows: readonly MixedRow[]): string {
  const n = { plain: 0, auth: 0, app: 0, isNew: 0 };
  for (const r of rows) {
    n[r.kind]++;
    if (r.isNew) n.isNew++;
  }
  return `${n.plain} plain, ${n.auth} digest, ${n.app - n.isNew} known app, ${n.isNew} new app installs`;
}
