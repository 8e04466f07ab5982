import type { RemindRepeat } from '../policy/remind-repeat.js';
import type { EnforcementMode } from '../policy/enforcement-mode.js';
import type { Db } from './database.js';
import { CONFIG_FORMAT, CONFIG_VERSION, type ConfigDocument, type ConfigGroup } from './config-document.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../shared/iso-time.js';
import { listOperators } from './operators.js';
import { statement } from './statements.js';

interface GroupExportRaw {
  name: string;
  parent: string | null;
  created_at: number;
  restrictions: number | null;
  virtual_numbers: number;
  mobile_apps: number;
  validity: number;
  valid_from: number | null;
  valid_until: number | null;
  remind_days: number | null;
  remind_repeat: RemindRepeat | null;
  enforcement: EnforcementMode | null;
}

/** A mapper, not aliases: 0/1 columns become booleans, times ISO 8601, and only root groups have licences. */
function toConfigGroup(r: GroupExportRaw): ConfigGroup {
  const group: ConfigGroup = { name: r.name, parent: r.parent, createdAt: formatIsoUtc(r.created_at) };
  if (r.parent !== null || r.restrictions === null) return group;
  return {
    ...group,
    licenses: {
      restrictions: r.restrictions === 1,
      virtualNumbers: r.virtual_numbers,
      mobileApps: r.mobile_apps,
      validity: r.validity === 1,
      validFrom: formatIsoUtcOrNull(r.valid_from),
      validUntil: formatIsoUtcOrNull(r.valid_until),
      remindDays: r.remind_days,
      remindRepeat: r.remind_repeat ?? 'once',
      ...(r.enforcement === null ? {} : { enforcement: r.enforcement }),
    },
  };
}

/**
 * The whole configuration (see config-document.ts for what is left out and why), read in one
 * transaction so that it is one consistent state. Ordered by id: a group's id is always above its
 * parent's, and numbers keep the creation order that ranks them.
 */
export function exportConfig(db: Db): ConfigDocument {
  return db.transaction((): ConfigDocument => {
    const groups = statement<[], GroupExportRaw>(
      db,
      `SELECT g.name, p.name AS parent, g.created_at, l.restrictions, l.virtual_numbers, l.mobile_apps,
              l.validity, l.valid_from, l.valid_until, l.remind_days, l.remind_repeat, l.enforcement
       FROM groups g LEFT JOIN groups p ON p.id = g.parent_id LEFT JOIN licenses l ON l.group_id = g.id
       ORDER BY g.id`,
    )
      .all()
      .map(toConfigGroup);
    const users = statement<
      [],
      { login: string; group: string; personal_numbers: number | null; personal_apps: number | null; created_at: number }
    >(
      db,
      `SELECT u.login, g.name AS "group", u.personal_numbers, u.personal_apps, u.created_at
       FROM users u JOIN groups g ON g.id = u.group_id ORDER BY u.id`,
    )
      .all()
      .map((u) => ({
        login: u.login,
        group: u.group,
        personalNumbers: u.personal_numbers,
        personalApps: u.personal_apps,
        createdAt: formatIsoUtc(u.created_at),
      }));
    const numbers = statement<[], { number: string; login: string; created_at: number }>(
      db,
      'SELECT n.number, u.login, n.created_at FROM numbers n JOIN users u ON u.id = n.user_id ORDER BY n.id',
    )
      .all()
      .map((n) => ({ number: n.number, user: n.login, createdAt: formatIsoUtc(n.created_at) }));
    const operators = listOperators(db).map((o) => ({ name: o.name, permissions: [...o.permissions] }));
    return { format: CONFIG_FORMAT, version: CONFIG_VERSION, groups, users, numbers, operators };
  })();
}
