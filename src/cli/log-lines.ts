/**
 * pino's JSON lines made readable, for `serve --log-format pretty` and `sipwarden logs`:
 *
 *   2026-05-01T09:15:02.120Z INFO  refused  method=REGISTER number=1001 group=Sunrise decision=deny reason=license-expired …
 *
 * The time is UTC, the level a word, then the message and every other field as key=value (the
 * decision fields first, in a fixed order), so a line reads the same whatever fields it carries.
 */

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Bindings every line carries that say nothing about the line itself. */
const HIDDEN = new Set(['time', 'level', 'msg', 'app', 'pid', 'hostname', 'v']);

/** The fields of a decision line, in the order an engineer reads them. */
const FIRST = ['method', 'leg', 'number', 'callee', 'install', 'group', 'decision', 'reason', 'transport', 'source', 'callId', 'us'];

export type LogRecord = Readonly<Record<string, unknown>>;

/** A line of pino output parsed, or null when it is not a JSON object (npm's banner, a stack trace). */
export function parseLogLine(line: string): LogRecord | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogRecord) : null;
  } catch {
    return null;
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function timeOf(value: unknown): string {
  return typeof value === 'number' ? new Date(value).toISOString() : typeof value === 'string' ? value : '-';
}

/** One readable line (plus the stack of an `err`, indented, on the lines after it). */
export function formatLogRecord(record: LogRecord): string {
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : String(record.level ?? '-');
  const keys = [...FIRST.filter((k) => k in record), ...Object.keys(record).filter((k) => !FIRST.includes(k) && !HIDDEN.has(k) && k !== 'err')];
  const fields = keys.filter((k) => record[k] !== undefined).map((k) => `${k}=${show(record[k])}`);
  const head = [timeOf(record.time), level.padEnd(5), String(record.msg ?? ''), ...fields].join(' ');
  const err = record.err as { message?: unknown; stack?: unknown } | undefined;
  if (err === undefined) return head;
  const stack = typeof err.stack === 'string' ? err.stack : String(err.message ?? JSON.stringify(err));
  return `${head}\n${stack.replace(/^/gm, '    ')}`;
}

/** What `sipwarden logs` keeps. */
export interface LogFilter {
  /** Only decision lines (those with a `decision` field). */
  readonly decisions?: boolean;
  readonly callId?: string;
  /** A number the line is about: caller, callee or registering number. */
  readonly number?: string;
}

export function matchesFilter(record: LogRecord, filter: LogFilter): boolean {
  if (filter.decisions && record.decision === undefined) return false;
  if (filter.callId !== undefined && record.callId !== filter.callId) return false;
  if (filter.number !== undefined && record.number !== filter.number && record.callee !== filter.number) return false;
  return true;
}
