import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * PIDs of the live (non-zombie) processes in process group `pgid`, from
 * /proc/<pid>/stat ("pid (comm) state ppid pgrp ..."). Undefined where /proc
 * is not available. Zombies are left out: they hold no sockets and vanish
 * once reaped.
 */
export function liveGroupMembers(pgid: number): number[] | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may contain spaces and parentheses: the fields start after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // The process ended while we were reading.
    }
  }
  return members;
}

/** Whether anything of process group `pgid` is still running. */
export function groupAlive(pgid: number): boolean {
  const members = liveGroupMembers(pgid);
  if (members) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
