import { matchInstall, type InstallKeys } from '../policy/install-keys.js';
import type { ClaimRefusal, InstallInput } from '../policy/install-ledger.js';
import type { InstallRecord } from '../policy/snapshot-records.js';
import type { ChangeContext } from './change-context.js';
import type { Db } from './database.js';
import { appendAudit } from './audit-log.js';
import { resolveGroup, SUBTREE_CTE } from './groups.js';
import { fail, succeed, type Outcome } from './outcome.js';
import { statement } from './statements.js';

/**
 * A licence this claim took, for `SnapshotIndex.applyClaim`: the tree's `licenses.revision` just
 * before and just after it, so the snapshot can tell whether anything else changed the tree.
 */
export interface ClaimedLicense {
  readonly install: InstallRecord;
  readonly revisionBefore: number;
  readonly revisionAfter: number;
}

export type ClaimResult =
  | { readonly ok: true; readonly alreadyLicensed: true }
  | { readonly ok: true; readonly alreadyLicensed: false; readonly claimed: ClaimedLicense }
  | { readonly ok: false; readonly reason: ClaimRefusal };

export interface AppInstall {
  readonly id: number;
  readonly instanceId: string;
  readonly number: string;
  readonly user: string;
  readonly root: string;
  readonly licensed: boolean;
  readonly licensedAt: number | null;
  readonly pnProvider: string | null;
  readonly pnPrid: string | null;
  readonly pnParam: string | null;
  readonly contact: string | null;
  readonly userAgent: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** The last time its licence was given back, and by whom: 'idle' or an operator's name. */
  readonly releasedAt: number | null;
  readonly releasedBy: string | null;
}

interface NumberOwner {
  id: number;
  user_id: number;
  root_id: number;
}

interface Limits {
  restrictions: number;
  mobile_apps: number;
  group_apps_used: number;
  personal_apps: number | null;
  user_apps_used: number;
}

interface InstallRow {
  id: number;
  licensed: number;
  instance_id: string;
  sip_instance: string | null;
  pn_prid: string | null;
  contact: string | null;
}

function rowKeys(r: InstallRow): InstallKeys {
  return { instance: r.sip_instance, prid: r.pn_prid, contact: r.contact };
}

/**
 * The row of this number the request comes from: stored under its id, else recognised by any
 * identifier it was stored under (`matchInstall`: the number's rows only, stronger identifiers
 * veto), licensed rows first.
 */
function existingInstall(db: Db, numberId: number, input: InstallInput): InstallRow | undefined {
  const rows = statement<[number], InstallRow>(
    db,
    `SELECT id, licensed, instance_id, sip_instance, pn_prid, contact FROM app_installs
     WHERE number_id = ? ORDER BY licensed DESC, id`,
  ).all(numberId);
  const exact = rows.find((r) => r.instance_id === input.instanceId);
  if (exact !== undefined) return exact;
  const keys: InstallKeys = { instance: input.sipInstance ?? null, prid: input.pnPrid, contact: input.contact };
  const candidates = rows.map((row) => ({ row, keys: rowKeys(row) }));
  return matchInstall(keys, (kind, value) => candidates.find((c) => c.keys[kind] === value))?.row;
}

/**
 * Inserts the install or refreshes the row it was recognised as (push parameters, identifiers,
 * last_seen); the licence state is not touched here. Null push parameters keep the stored ones (an
 * app matched by User-Agent alone should not erase the token that reaches it).
 */
function upsertInstall(db: Db, owner: NumberOwner, input: InstallInput, existing = existingInstall(db, owner.id, input)): InstallRow {
  const row =
    existing === undefined
      ? statement<unknown[], InstallRow>(
          db,
          `INSERT INTO app_installs (pn_provider, pn_prid, pn_param, contact, user_agent, sip_instance,
                                     instance_id, number_id, user_id, root_id, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING id, licensed, instance_id, sip_instance, pn_prid, contact`,
        ).get(...pushParams(input), input.instanceId, owner.id, owner.user_id, owner.root_id, input.now, input.now)
      : statement<unknown[], InstallRow>(
          db,
          `UPDATE app_installs SET
             pn_provider = COALESCE(?, pn_provider), pn_prid = COALESCE(?, pn_prid), pn_param = COALESCE(?, pn_param),
             contact = COALESCE(?, contact), user_agent = COALESCE(?, user_agent),
             sip_instance = COALESCE(sip_instance, ?), last_seen = ?
           WHERE id = ? RETURNING id, licensed, instance_id, sip_instance, pn_prid, contact`,
        ).get(...pushParams(input), input.now, existing.id);
  if (!row) throw new Error('app install upsert returned no row');
  return row;
}

function pushParams(input: InstallInput): unknown[] {
  return [input.pnProvider, input.pnPrid, input.pnParam, input.contact, input.userAgent, input.sipInstance ?? null];
}

/**
 * Licensing order is commit order: after every licence of the tree, even one taken by a process
 * whose clock runs ahead, so the new install ranks last in the tree and for its user and a running
 * snapshot can append it without reloading the tree.
 */
const LICENSED_AT = 'max(?, coalesce((SELECT max(licensed_at) + 1 FROM app_installs WHERE root_id = ? AND licensed = 1), 0))';

/**
 * Stores the install as licensed in one statement: a new row inserted licensed, or the row it was
 * recognised as refreshed and licensed (the counters follow by trigger). One write per claim
 * instead of an upsert and then an update: a burst of new installs is the writer thread's load.
 */
function licenseInstall(db: Db, owner: NumberOwner, input: InstallInput, existing: InstallRow | undefined): InstallRow {
  const row =
    existing === undefined
      ? statement<unknown[], InstallRow>(
          db,
          `INSERT INTO app_installs (pn_provider, pn_prid, pn_param, contact, user_agent, sip_instance,
                                     instance_id, number_id, user_id, root_id, first_seen, last_seen, licensed, licensed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ${LICENSED_AT})
           RETURNING id, licensed, instance_id, sip_instance, pn_prid, contact`,
        ).get(...pushParams(input), input.instanceId, owner.id, owner.user_id, owner.root_id, input.now, input.now, input.now, owner.root_id)
      : statement<unknown[], InstallRow>(
          db,
          `UPDATE app_installs SET
             pn_provider = COALESCE(?, pn_provider), pn_prid = COALESCE(?, pn_prid), pn_param = COALESCE(?, pn_param),
             contact = COALESCE(?, contact), user_agent = COALESCE(?, user_agent),
             sip_instance = COALESCE(sip_instance, ?), last_seen = ?, licensed = 1, licensed_at = ${LICENSED_AT}
           WHERE id = ? RETURNING id, licensed, instance_id, sip_instance, pn_prid, contact`,
        ).get(...pushParams(input), input.now, input.now, owner.root_id, existing.id);
  if (!row) throw new Error('app install licence returned no row');
  return row;
}

function numberOwner(db: Db, number: string): NumberOwner | undefined {
  return statement<[string], NumberOwner>(db, 'SELECT id, user_id, root_id FROM numbers WHERE number = ?').get(number);
}

/**
 * Takes a mobile-app license for an install (DESIGN.md §3): in one `BEGIN IMMEDIATE` transaction,
 * finds the install's row, re-checks the group's and the user's app limits (only while
 * restrictions are on) and stores it licensed. A refused install keeps (or gets) its row
 * (licensed = 0) with its push parameters, so that the renewal push can reach it.
 */
export function claimInstall(db: Db, input: InstallInput): ClaimResult {
  return db
    .transaction((): ClaimResult => {
      const owner = numberOwner(db, input.number);
      if (!owner) return { ok: false, reason: 'unknown-number' };
      const existing = existingInstall(db, owner.id, input);
      if (existing?.licensed === 1) {
        upsertInstall(db, owner, input, existing);
        return { ok: true, alreadyLicensed: true };
      }
      const refusal = limitRefusal(db, owner, input.number);
      if (refusal !== null) {
        upsertInstall(db, owner, input, existing);
        return { ok: false, reason: refusal };
      }
      const revision = statement<[number], number>(db, 'SELECT revision FROM licenses WHERE group_id = ?').pluck();
      const revisionBefore = revision.get(owner.root_id) ?? 0;
      const install = licenseInstall(db, owner, input, existing);
      const claimed: ClaimedLicense = {
        install: { instanceId: install.instance_id, number: input.number, userId: owner.user_id, rootId: owner.root_id, keys: rowKeys(install) },
        revisionBefore,
        revisionAfter: revision.get(owner.root_id) ?? 0,
      };
      return { ok: true, alreadyLicensed: false, claimed };
    })
    .immediate();
}

/** Why the group's or the user's app limit leaves no licence for this install (only while restrictions are on); null when one is free. */
function limitRefusal(db: Db, owner: NumberOwner, number: string): ClaimRefusal | null {
  const limits = statement<[number, number], Limits>(
    db,
    `SELECT l.restrictions, l.mobile_apps, l.apps_used AS group_apps_used,
            u.personal_apps, u.apps_used AS user_apps_used
     FROM licenses l, users u WHERE l.group_id = ? AND u.id = ?`,
  ).get(owner.root_id, owner.user_id);
  if (!limits) throw new Error(`number '${number}' has no Licences row or user`);
  if (limits.restrictions !== 1) return null;
  if (limits.group_apps_used >= limits.mobile_apps) return 'no-mobile-app-license';
  if (limits.personal_apps !== null && limits.user_apps_used >= limits.personal_apps) return 'personal-license-exceeded';
  return null;
}

/**
 * Stores a refused REGISTER's install (push parameters, last_seen) without changing whether it
 * holds a license. False when the number is not provisioned.
 */
export function recordRefusedInstall(db: Db, input: InstallInput): boolean {
  return db
    .transaction((): boolean => {
      const owner = numberOwner(db, input.number);
      if (!owner) return false;
      upsertInstall(db, owner, input);
      return true;
    })
    .immediate();
}

/** A licensed install refreshed its registration: update last_seen and push parameters. False if unknown. */
export function touchInstall(db: Db, input: InstallInput): boolean {
  const info = statement(
    db,
    `UPDATE app_installs SET last_seen = ?,
       pn_provider = COALESCE(?, pn_provider), pn_prid = COALESCE(?, pn_prid), pn_param = COALESCE(?, pn_param),
       contact = COALESCE(?, contact), user_agent = COALESCE(?, user_agent), sip_instance = COALESCE(sip_instance, ?)
     WHERE instance_id = ? AND number_id = (SELECT id FROM numbers WHERE number = ?)`,
  ).run(
    input.now,
    input.pnProvider,
    input.pnPrid,
    input.pnParam,
    input.contact,
    input.userAgent,
    input.sipInstance ?? null,
    input.instanceId,
    input.number,
  );
  return info.changes > 0;
}

interface InstallRaw {
  id: number;
  instance_id: string;
  number: string;
  login: string;
  root_name: string;
  licensed: number;
  licensed_at: number | null;
  pn_provider: string | null;
  pn_prid: string | null;
  pn_param: string | null;
  contact: string | null;
  user_agent: string | null;
  first_seen: number;
  last_seen: number;
  released_at: number | null;
  released_by: string | null;
}

const INSTALL_SELECT = `SELECT a.*, n.number, u.login, r.name AS root_name
FROM app_installs a JOIN numbers n ON n.id = a.number_id JOIN users u ON u.id = a.user_id JOIN groups r ON r.id = a.root_id`;

/** A mapper, not aliases: `licensed` is stored 0/1 and read as a boolean. */
function toInstall(r: InstallRaw): AppInstall {
  return {
    id: r.id,
    instanceId: r.instance_id,
    number: r.number,
    user: r.login,
    root: r.root_name,
    licensed: r.licensed === 1,
    licensedAt: r.licensed_at,
    pnProvider: r.pn_provider,
    pnPrid: r.pn_prid,
    pnParam: r.pn_param,
    contact: r.contact,
    userAgent: r.user_agent,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    releasedAt: r.released_at,
    releasedBy: r.released_by,
  };
}

/** Every row of one install (one per number it registered), oldest first. */
export function findInstalls(db: Db, instanceId: string): AppInstall[] {
  return statement<[string], InstallRaw>(db, `${INSTALL_SELECT} WHERE a.instance_id = ? ORDER BY a.id`)
    .all(instanceId)
    .map(toInstall);
}

/**
 * Gives back the licenses held by an install (every number it registered). Its rows stay, with
 * their push parameters, so that it can be told when a license is free again; its next REGISTER
 * claims a license anew. Audited when `ctx` is given (an operator's `app release`).
 */
export function releaseInstall(db: Db, instanceId: string, ctx?: ChangeContext): Outcome<AppInstall[]> {
  return db
    .transaction((): Outcome<AppInstall[]> => {
      const rows = findInstalls(db, instanceId);
      if (rows.length === 0) {
        return fail('not-found', 'instance', `app install '${instanceId}' does not exist; see 'sipwarden app list'`);
      }
      const released = rows.filter((r) => r.licensed);
      statement(
        db,
        `UPDATE app_installs SET licensed = 0, licensed_at = NULL, released_at = ?, released_by = ?
         WHERE instance_id = ? AND licensed = 1`,
      ).run(ctx?.now ?? Date.now(), ctx?.operator ?? null, instanceId);
      if (ctx && released.length > 0) {
        appendAudit(db, {
          at: ctx.now,
          operator: ctx.operator,
          action: 'app.release',
          outcome: 'ok',
          rootGroup: rows[0]?.root ?? null,
          target: instanceId,
          oldValue: { licensed: released.map((r) => r.number) },
          newValue: { licensed: [] },
        });
      }
      return succeed(released);
    })
    .immediate();
}

/** Installs of a group's subtree (or all), in licensing order: licensed first, oldest license first. */
export function listInstalls(db: Db, filter: { readonly group?: string } = {}): Outcome<AppInstall[]> {
  let groupId: number | null = null;
  if (filter.group !== undefined) {
    const g = resolveGroup(db, 'group', filter.group);
    if (!g.ok) return g;
    groupId = g.value.id;
  }
  const rows = statement<[{ subtree: number | null }], InstallRaw>(
    db,
    `${SUBTREE_CTE} ${INSTALL_SELECT}
     WHERE (@subtree IS NULL OR u.group_id IN (SELECT id FROM subtree))
     ORDER BY a.licensed DESC, a.licensed_at, a.id`,
  ).all({ subtree: groupId });
  return succeed(rows.map(toInstall));
}
