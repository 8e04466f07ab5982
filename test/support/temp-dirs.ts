import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/** Set SIPWARDEN_KEEP_TEST_DIRS=1 to keep every peer's config, logs and SIPp traces. */
const KEEP = process.env['SIPWARDEN_KEEP_TEST_DIRS'] === '1';
const PREFIX = 'sipwarden-peer-';
const OWNER_FILE = '.owner-pid';

const created = new Set<string>();
let swept = false;
let exitHookInstalled = false;

/**
 * A fresh folder for one peer under the OS temp dir, left in place after the
 * peer stops so a failing test can still read its logs.
 *
 * vitest ends its workers with a signal, so no exit hook runs there: instead
 * each folder records its owner PID and the first call in a later process
 * removes folders whose owner is gone. The last run's folders therefore stay
 * for a post-mortem until the next run. Plain node scripts (benchmarks) also
 * clean up on exit.
 */
export function makeTempDir(label: string): string {
  if (!swept) {
    swept = true;
    sweepOrphans();
  }
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${label}-`));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  created.add(dir);
  return dir;
}

/** Remove a folder now (e.g. after a benchmark copied what it needs). */
export function removeTempDir(dir: string): void {
  if (!created.delete(dir) || KEEP) return;
  rmSync(dir, { recursive: true, force: true });
}

function sweepOrphans(): void {
  if (KEEP) return;
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    const ownerFile = join(dir, OWNER_FILE);
    try {
      if (!existsSync(ownerFile)) continue;
      const owner = Number.parseInt(readFileSync(ownerFile, 'utf8'), 10);
      if (Number.isInteger(owner) && !processAlive(owner)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another worker is sweeping the same folder.
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    if (KEEP) return;
    for (const dir of created) rmSync(dir, { recursive: true, force: true });
  });
}
