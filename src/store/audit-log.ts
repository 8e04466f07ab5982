import type { Db } from './database.js';
import { statement } from './statements.js';

/** `ok`: a change was made; `denied`: an operator lacked the permission; `refused`: kept for other writers. */
export type AuditOutcome = 'ok' | 'denied' | 'refused';

export interface AuditInput {
  readonly at: number;
  /** The operator's name, copied so that the log outlives the operator. */
  readonly operator: string | null;
  /** Dotted command name: `licenses.set`, `number.add` … */
  readonly action: string;
  readonly outcome: AuditOutcome;
  /** Name of the root group of the tree concerned, null for operator changes. */
  readonly rootGroup: string | null;
  readonly target: string | null;
  /** JSON-serialisable state before and after (null when absent). */
  readonly oldValue?: unknown;
  readonly newValue?: unknown;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly operator: string | null;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly rootGroup: string | null;
  readonly target: string | null;
  readonly oldValue: unknown;
  readonly newValue: unknown;
}

interface AuditRaw {
  id: number;
  at: number;
  operator: string | null;
  action: string;
  outcome: AuditOutcome;
  root_group: string | null;
  target: string | null;
  old_value: string | null;
  new_value: string | null;
}

function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** Appends one row. Call it inside the transaction of the change it records. */
export function appendAudit(db: Db, entry: AuditInput): void {
  statement(
    db,
    `INSERT INTO audit_log (at, operator, action, outcome, root_group, target, old_value, new_value)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    entry.at,
    entry.operator,
    entry.action,
    entry.outcome,
    entry.rootGroup,
    entry.target,
    toJson(entry.oldValue),
    toJson(entry.newValue),
  );
}

export interface AuditFilter {
  /** Root group name as recorded (the log outlives deleted groups, so this is matched as text). */
  readonly rootGroup?: string;
  /** Only entries at or after this time (ms). */
  readonly since?: number;
}

/** Entries in the order they were written. */
export function listAudit(db: Db, filter: AuditFilter = {}): AuditEntry[] {
  const rows = statement<[string | null, string | null, number | null, number | null], AuditRaw>(
    db,
    `SELECT * FROM audit_log
     WHERE (? IS NULL OR root_group = ?) AND (? IS NULL OR at >= ?)
     ORDER BY id`,
  ).all(filter.rootGroup ?? null, filter.rootGroup ?? null, filter.since ?? null, filter.since ?? null);
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    operator: r.operator,
    action: r.action,
    outcome: r.outcome,
    rootGroup: r.root_group,
    target: r.target,
    oldValue: r.old_value === null ? null : (JSON.parse(r.old_value) as unknown),
    newValue: r.new_value === null ? null : (JSON.parse(r.new_value) as unknown),
  }));
}
