import { formatIsoUtc } from '../shared/iso-time.js';

/** Machine-readable output of every read (`--json`): one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Left-aligned columns with a header; `-` for empty cells. */
export function printTable(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): void {
  if (rows.length === 0) {
    printLine('(none)');
    return;
  }
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === '' ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) {
    printLine(
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
  }
}

export function timeOrDash(ms: number | null): string {
  return ms === null ? '-' : formatIsoUtc(ms);
}

/** A duration as "3 d 4 h", "5 h 10 min" or "42 s". */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s % 60} s`;
}
