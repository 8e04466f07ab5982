import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Cumulative figures from the last row of SIPp's `-trace_stat` CSV (the "(C)"
 * columns). `raw` keeps every column of that row for anything not lifted out.
 */
export interface SippStats {
  readonly outgoingCalls: number;
  readonly incomingCalls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly failedUnexpectedMessage: number;
  readonly failedTimeoutOnRecv: number;
  readonly failedMaxUdpRetrans: number;
  readonly failedTcpConnect: number;
  /** Header checks (`ereg check_it`) that did not match or found no header. */
  readonly failedRegexp: number;
  /** `strcmp check_it` mismatches, e.g. an X-Sipwarden-Reason other than expected. */
  readonly failedStrcmp: number;
  readonly outOfCallMessages: number;
  readonly deadCallMessages: number;
  readonly elapsedMs: number;
  /** Mean response time per rtd ("ResponseTime1" ...) in ms; SIPp measures in ~ms steps. */
  readonly meanResponseMs: Readonly<Record<string, number>>;
  readonly raw: Readonly<Record<string, string>>;
}

/** One measured response time from `-trace_rtt`. */
export interface ResponseTime {
  readonly rtd: string;
  readonly ms: number;
}

/** Semicolon-separated header + rows; returns the last row keyed by header, or undefined if there is none. */
export function lastCsvRow(text: string): Record<string, string> | undefined {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0];
  const last = lines.at(-1);
  if (!header || !last || lines.length < 2) return undefined;
  const names = header.split(';');
  const values = last.split(';');
  const row: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name !== '') row[name] = values[i] ?? '';
  });
  return row;
}

/** SIPp durations: "00:00:01:250000" (h:m:s:microseconds) for response times, "00:00:04" (h:m:s) for elapsed time. */
export function parseSippDuration(value: string): number {
  const parts = value.trim().split(':').map(Number);
  if ((parts.length !== 3 && parts.length !== 4) || parts.some((p) => !Number.isFinite(p))) return Number.NaN;
  const [h = 0, m = 0, s = 0, us = 0] = parts;
  return ((h * 60 + m) * 60 + s) * 1000 + us / 1000;
}

export function parseStatsCsv(text: string): SippStats | undefined {
  const row = lastCsvRow(text);
  if (!row) return undefined;
  const num = (name: string): number => Number(row[`${name}(C)`] ?? Number.NaN);
  const meanResponseMs: Record<string, number> = {};
  for (const key of Object.keys(row)) {
    const match = /^(ResponseTime\d+)\(C\)$/.exec(key);
    if (match?.[1]) meanResponseMs[match[1]] = parseSippDuration(row[key] ?? '');
  }
  return {
    outgoingCalls: num('OutgoingCall'),
    incomingCalls: num('IncomingCall'),
    successful: num('SuccessfulCall'),
    failed: num('FailedCall'),
    retransmissions: num('Retransmissions'),
    failedUnexpectedMessage: num('FailedUnexpectedMessage'),
    failedTimeoutOnRecv: num('FailedTimeoutOnRecv'),
    failedMaxUdpRetrans: num('FailedMaxUDPRetrans'),
    failedTcpConnect: num('FailedTcpConnect'),
    failedRegexp: num('FailedRegexpDoesntMatch') + num('FailedRegexpHdrNotFound'),
    failedStrcmp: num('FailedStrcmpDoesntMatch'),
    outOfCallMessages: num('OutOfCallMsgs'),
    deadCallMessages: num('DeadCallMsgs'),
    elapsedMs: parseSippDuration(row['ElapsedTime(C)'] ?? ''),
    meanResponseMs,
    raw: row,
  };
}

/** Per-step counters from `-trace_counts`, e.g. `{ "3_403_Recv": 2, "0_REGISTER_Sent": 2 }`. */
export function parseCountsCsv(text: string): Record<string, number> {
  const row = lastCsvRow(text) ?? {};
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(row)) {
    if (name !== 'CurrentTime' && name !== 'ElapsedTime') counts[name] = Number(value);
  }
  return counts;
}

/** Rows "Date_ms;response_time_ms;rtd_no" from `-trace_rtt`. */
export function parseRttCsv(text: string): ResponseTime[] {
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, ms = '', rtd = ''] = line.split(';');
      return { rtd: rtd.trim(), ms: Number(ms) };
    });
}

/** SIPp names some traces `<scenario>_<pid>_<kind>.csv` in its working folder; find one by suffix. */
export function readTraceBySuffix(dir: string, suffix: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir).find((entry) => entry.endsWith(suffix));
  return name ? readFileSync(join(dir, name), 'utf8') : undefined;
}
