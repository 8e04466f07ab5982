import type { Database } from 'better-sqlite3';

/**
 * Forward-only numbered migrations, applied in order on open inside one transaction each.
 * Never edit a migration that has shipped: add the next one.
 *
 * Times are INTEGER milliseconds since the Unix epoch (UTC). Used counts are kept in counter
 * columns by triggers so that `licenses show` and the policy never scan whole tables, and every
 * change to a tree bumps its root's `revision` so a running daemon can reload just that tree.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE groups (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  parent_id  INTEGER REFERENCES groups(id) ON DELETE RESTRICT,
  root_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
  created_at INTEGER NOT NULL
);
CREATE INDEX groups_parent ON groups(parent_id);
CREATE INDEX groups_root ON groups(root_id);

-- The Licences section: one row per root group, created with the group.
CREATE TABLE licenses (
  group_id        INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  restrictions    INTEGER NOT NULL DEFAULT 0 CHECK (restrictions IN (0, 1)),
  virtual_numbers INTEGER NOT NULL DEFAULT 0 CHECK (virtual_numbers >= 0),
  mobile_apps     INTEGER NOT NULL DEFAULT 0 CHECK (mobile_apps >= 0),
  validity        INTEGER NOT NULL DEFAULT 0 CHECK (validity IN (0, 1)),
  valid_from      INTEGER,
  valid_until     INTEGER,
  remind_days     INTEGER CHECK (remind_days IS NULL OR remind_days >= 0),
  numbers_used    INTEGER NOT NULL DEFAULT 0,
  apps_used       INTEGER NOT NULL DEFAULT 0,
  revision        INTEGER NOT NULL DEFAULT 0,
  updated_at      INTEGER NOT NULL,
  CHECK (virtual_numbers >= mobile_apps),
  CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from)
);

CREATE TABLE users (
  id               INTEGER PRIMARY KEY,
  login            TEXT NOT NULL UNIQUE,
  group_id         INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
  root_id          INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
  personal_numbers INTEGER CHECK (personal_numbers IS NULL OR personal_numbers >= 0),
  personal_apps    INTEGER CHECK (personal_apps IS NULL OR personal_apps >= 0),
  numbers_used     INTEGER NOT NULL DEFAULT 0,
  apps_used        INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL
);
CREATE INDEX users_group ON users(group_id);
CREATE INDEX users_root ON users(root_id);

CREATE TABLE numbers (
  id         INTEGER PRIMARY KEY,
  number     TEXT NOT NULL UNIQUE,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  root_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
  created_at INTEGER NOT NULL
);
CREATE INDEX numbers_root ON numbers(root_id, id);
CREATE INDEX numbers_user ON numbers(user_id, id);

-- Mobile-app installs: one row per (instance, number). licensed = 1 while it holds a license;
-- refused installs are kept (licensed = 0) with their RFC 8599 push parameters so that the
-- renewal push can reach them.
CREATE TABLE app_installs (
  id          INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  number_id   INTEGER NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  root_id     INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  licensed    INTEGER NOT NULL DEFAULT 0 CHECK (licensed IN (0, 1)),
  licensed_at INTEGER,
  pn_provider TEXT,
  pn_prid     TEXT,
  pn_param    TEXT,
  contact     TEXT,
  user_agent  TEXT,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  UNIQUE (instance_id, number_id)
);
CREATE INDEX app_installs_root ON app_installs(root_id, licensed, licensed_at, id);
CREATE INDEX app_installs_user ON app_installs(user_id, licensed);
CREATE INDEX app_installs_instance ON app_installs(instance_id);

CREATE TABLE operators (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE operator_permissions (
  operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
  permission  TEXT NOT NULL,
  PRIMARY KEY (operator_id, permission)
);

-- Every change, and every refused attempt, with who/what/old/new/when. Names are copied (not
-- referenced) so that the log outlives what it talks about.
CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  operator   TEXT,
  action     TEXT NOT NULL,
  outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'refused')),
  root_group TEXT,
  target     TEXT,
  old_value  TEXT,
  new_value  TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_group ON audit_log(root_group, at);

-- Counters and revisions.
CREATE TRIGGER numbers_ai AFTER INSERT ON numbers BEGIN
  UPDATE licenses SET numbers_used = numbers_used + 1, revision = revision + 1 WHERE group_id = NEW.root_id;
  UPDATE users SET numbers_used = numbers_used + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER numbers_ad AFTER DELETE ON numbers BEGIN
  UPDATE licenses SET numbers_used = numbers_used - 1, revision = revision + 1 WHERE group_id = OLD.root_id;
  UPDATE users SET numbers_used = numbers_used - 1 WHERE id = OLD.user_id;
END;
CREATE TRIGGER app_installs_ai AFTER INSERT ON app_installs WHEN NEW.licensed = 1 BEGIN
  UPDATE licenses SET apps_used = apps_used + 1, revision = revision + 1 WHERE group_id = NEW.root_id;
  UPDATE users SET apps_used = apps_used + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER app_installs_ad AFTER DELETE ON app_installs WHEN OLD.licensed = 1 BEGIN
  UPDATE licenses SET apps_used = apps_used - 1, revision = revision + 1 WHERE group_id = OLD.root_id;
  UPDATE users SET apps_used = apps_used - 1 WHERE id = OLD.user_id;
END;
CREATE TRIGGER app_installs_au AFTER UPDATE OF licensed ON app_installs WHEN OLD.licensed <> NEW.licensed BEGIN
  UPDATE licenses SET apps_used = apps_used + (NEW.licensed - OLD.licensed), revision = revision + 1 WHERE group_id = NEW.root_id;
  UPDATE users SET apps_used = apps_used + (NEW.licensed - OLD.licensed) WHERE id = NEW.user_id;
END;
CREATE TRIGGER users_au AFTER UPDATE OF personal_numbers, personal_apps ON users BEGIN
  UPDATE licenses SET revision = revision + 1 WHERE group_id = NEW.root_id;
END;
CREATE TRIGGER users_ad AFTER DELETE ON users BEGIN
  UPDATE licenses SET revision = revision + 1 WHERE group_id = OLD.root_id;
END;
CREATE TRIGGER licenses_au AFTER UPDATE OF restrictions, virtual_numbers, mobile_apps, validity, valid_from, valid_until, remind_days ON licenses BEGIN
  UPDATE licenses SET revision = revision + 1 WHERE group_id = NEW.group_id;
END;
`,
  },
  {
    version: 2,
    name: 'lifecycle and outbox',
    sql: `
-- How often the expiry reminder repeats once remind_days before valid_until is reached.
ALTER TABLE licenses ADD COLUMN remind_repeat TEXT NOT NULL DEFAULT 'once'
  CHECK (remind_repeat IN ('once', 'daily', 'weekly', 'monthly'));

-- The window state last announced for each root group, so that every transition (expired,
-- activated, renewed) is written to the outbox exactly once, also across restarts. A group
-- without a row has not been seen yet: its first state is recorded without an event.
CREATE TABLE license_lifecycle (
  group_id         INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  state            TEXT NOT NULL CHECK (state IN ('unrestricted', 'active', 'not-yet-valid', 'expired')),
  state_since      INTEGER NOT NULL,
  -- The last license.expiring written, and the valid_until it was about.
  last_reminder_at INTEGER,
  reminded_until   INTEGER,
  updated_at       INTEGER NOT NULL
);

-- Durable outbox: each lifecycle event is written in the transaction of the change it describes
-- and delivered from here to the push gateway webhook(s). The group is copied by name, as in the
-- audit log, so that an event outlives its group. payload is the exact JSON body that is signed
-- and sent; event_id is its idempotency key.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  type            TEXT NOT NULL,
  root_group      TEXT NOT NULL,
  source          TEXT NOT NULL CHECK (source IN ('scheduler', 'operator')),
  operator        TEXT,
  occurred_at     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  -- The maximum age counts from here; 'events retry' moves it to the time of the retry.
  age_from        INTEGER NOT NULL,
  payload         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  finished_at     INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_group ON outbox(root_group, id);

-- One row per (event, webhook URL), made when the deliverer first handles the event: a webhook
-- that answered 2xx is never sent that event again.
CREATE TABLE outbox_deliveries (
  outbox_id       INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
  target          TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  PRIMARY KEY (outbox_id, target)
);
`,
  },
  {
    version: 3,
    name: 'numbers stored as the SIP server matches them',
    sql: `
-- Kamailio's registrar matches AoRs case-insensitively (case_sensitive 0, its default), so LOBBY
-- and lobby are one account: numbers are stored with ASCII letters in lower case
-- (normalizeNumber) and looked up the same way. Two numbers that differ only in case cannot both
-- be kept: the migration stops, naming the problem, until one of them is removed.
CREATE TEMP TABLE numbers_differing_only_in_case_remove_one_first (number TEXT NOT NULL UNIQUE);
INSERT INTO numbers_differing_only_in_case_remove_one_first SELECT lower(number) FROM numbers;
DROP TABLE numbers_differing_only_in_case_remove_one_first;
-- A running daemon reloads the trees whose numbers change.
UPDATE licenses SET revision = revision + 1
  WHERE group_id IN (SELECT root_id FROM numbers WHERE number <> lower(number));
UPDATE numbers SET number = lower(number) WHERE number <> lower(number);
`,
  },
  {
    version: 4,
    name: 'sip keys',
    sql: `
-- Keys of the SIP proxy that must outlive a restart. 'flow-token' seals the flow tokens in the
-- Path and Record-Route values the sidecar inserts (src/sip/proxy/flow-token.ts): registrations and
-- dialogs routed before a restart stay routable after it. The key itself is made by the code
-- (crypto.randomBytes) at 'sipwarden init' or the first 'serve', not by this migration.
CREATE TABLE sip_keys (
  name       TEXT PRIMARY KEY,
  key        BLOB NOT NULL CHECK (length(key) >= 32),
  created_at INTEGER NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'install identifiers',
    sql: `
-- An install is recognised by any identifier it was stored under (+sip.instance, pn-prid, Contact
-- URI), on REGISTER and INVITE; instance_id stays the id it was first stored under. Rows stored
-- before this kept +sip.instance only as their id: urn: ids are taken as such.
ALTER TABLE app_installs ADD COLUMN sip_instance TEXT;
UPDATE app_installs SET sip_instance = instance_id WHERE instance_id LIKE 'urn:%';
CREATE INDEX app_installs_number ON app_installs(number_id);
`,
  },
  {
    version: 6,
    name: 'enforcement mode per project',
    sql: `
-- Shadow mode (issue 11, item 4): a project in 'shadow' has its refusals logged and counted as
-- "would refuse" and its requests forwarded; 'enforce' refuses them; NULL follows the sidecar's
-- policy.mode. A change reloads the tree in running daemons, like every other licence setting.
ALTER TABLE licenses ADD COLUMN enforcement TEXT CHECK (enforcement IS NULL OR enforcement IN ('enforce', 'shadow'));
CREATE TRIGGER licenses_enforcement_au AFTER UPDATE OF enforcement ON licenses BEGIN
  UPDATE licenses SET revision = revision + 1 WHERE group_id = NEW.group_id;
END;
`,
  },
  {
    version: 7,
    name: 'install releases',
    sql: `
-- The last time an install's licence was given back, and by whom: 'idle' (it had not registered
-- for policy.releaseIdleInstallsAfter) or the operator's name ('app release'). Kept when it
-- claims a licence again, as history.
ALTER TABLE app_installs ADD COLUMN released_at INTEGER;
ALTER TABLE app_installs ADD COLUMN released_by TEXT;

-- The idle release looks every second for licensed installs not seen since a time.
CREATE INDEX app_installs_idle ON app_installs(last_seen) WHERE licensed = 1;
`,
  },
];

/** Applies every migration newer than `PRAGMA user_version`, each in its own transaction. */
export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this sipwarden (${latest}); upgrade sipwarden`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}
