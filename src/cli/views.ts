import type { AppInstall } from '../store/app-installs.js';
import type { AuditEntry } from '../store/audit-log.js';
import type { GroupDetails, GroupSummary } from '../store/groups.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../shared/iso-time.js';
import type { VirtualNumber } from '../store/numbers.js';
import type { Operator } from '../store/operators.js';
import type { User } from '../store/users.js';

/*
 * The `--json` shapes of the reads: names instead of ids, ISO 8601 UTC times. Ids are internal
 * to one database (an import renumbers them), so scripts should not depend on them.
 */

export function groupView(g: GroupSummary) {
  return { name: g.name, parent: g.parent, root: g.root, subgroups: g.subgroups, users: g.users, createdAt: formatIsoUtc(g.createdAt) };
}

export function groupDetailsView(g: GroupDetails) {
  return { ...groupView(g), isRoot: g.parentId === null, path: g.path, children: g.children };
}

export function userView(u: User) {
  return {
    login: u.login,
    group: u.group,
    root: u.root,
    personalNumbers: u.personalNumbers,
    personalApps: u.personalApps,
    numbersUsed: u.numbersUsed,
    appsUsed: u.appsUsed,
    createdAt: formatIsoUtc(u.createdAt),
  };
}

export function numberView(n: VirtualNumber) {
  return { number: n.number, user: n.user, group: n.group, root: n.root, createdAt: formatIsoUtc(n.createdAt) };
}

export function installView(a: AppInstall) {
  return {
    instanceId: a.instanceId,
    number: a.number,
    user: a.user,
    root: a.root,
    licensed: a.licensed,
    licensedAt: formatIsoUtcOrNull(a.licensedAt),
    pnProvider: a.pnProvider,
    pnPrid: a.pnPrid,
    pnParam: a.pnParam,
    contact: a.contact,
    userAgent: a.userAgent,
    firstSeen: formatIsoUtc(a.firstSeen),
    lastSeen: formatIsoUtc(a.lastSeen),
    releasedAt: formatIsoUtcOrNull(a.releasedAt),
    releasedBy: a.releasedBy,
  };
}

export function operatorView(o: Operator) {
  return { name: o.name, permissions: o.permissions, createdAt: formatIsoUtc(o.createdAt) };
}

export function auditView(e: AuditEntry) {
  return {
    id: e.id,
    at: formatIsoUtc(e.at),
    operator: e.operator,
    action: e.action,
    outcome: e.outcome,
    rootGroup: e.rootGroup,
    target: e.target,
    old: e.oldValue,
    new: e.newValue,
  };
}
