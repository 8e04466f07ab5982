import { execFile } from 'node:child_process';
import { findExecutable } from './peer-tools.js';

/**
 * Kamailio's location table read through its ctl module (`kamcmd -s unix:<socket>`), for tests
 * that must see what the registrar actually bound rather than what a client was answered.
 * The registrar must be started with `ctl: true` (see kamailio.ts).
 */

function kamcmd(socket: string, args: readonly string[]): Promise<string> {
  const binary = findExecutable('kamcmd', 'SIPWARDEN_KAMCMD');
  if (!binary.found) return Promise.reject(new Error(binary.reason));
  return new Promise((resolve, reject) => {
    execFile(binary.path, ['-s', `unix:${socket}`, ...args], { encoding: 'utf8', timeout: 5000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kamcmd ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Every AoR in the `location` table, as Kamailio stores it (`ul.dump brief`); '' is the empty AoR. */
export async function boundAors(socket: string): Promise<string[]> {
  const out = await kamcmd(socket, ['ul.dump', 'brief']);
  const aors: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*AoR: ?(.*)$/.exec(line);
    if (m) aors.push(m[1] ?? '');
  }
  return aors;
}

/** Removes every binding of `aor` (`ul.rm`; the `s:` prefix keeps a numeric AoR a string). */
export async function removeAor(socket: string, aor: string): Promise<void> {
  await kamcmd(socket, ['ul.rm', 'location', `s:${aor}`]);
}

/** Whether `kamcmd` is installed (Debian: in the kamailio package). */
export function kamcmdMissing(): string | undefined {
  const binary = findExecutable('kamcmd', 'SIPWARDEN_KAMCMD');
  return binary.found ? undefined : binary.reason;
}
