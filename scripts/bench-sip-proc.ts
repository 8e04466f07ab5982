/**
 * CPU time and memory of the processes under test, read from /proc (Linux).
 *
 * A peer is sampled as its whole process group (the harness starts each in its own group): a
 * Kamailio is a main process plus forked workers. Memory is the sum of PSS (proportional set size,
 * /proc/PID/smaps_rollup) over the group: RSS summed over Kamailio's processes would count its
 * shared memory once per worker. For the single-process sidecar PSS is its RSS without the shared
 * libraries' pages that other processes also map; its VmRSS is read as well.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  readonly pgrp: number;
  /** utime + stime, seconds. */
  readonly cpu: number;
  /** cutime + cstime: CPU of children this process has waited for, seconds. */
  readonly childrenCpu: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (field: number): number => Number(f[field - 3]);
  const hz = clockTicks();
  return { pgrp: at(5), cpu: (at(14) + at(15)) / hz, childrenCpu: (at(16) + at(17)) / hz };
}

function kib(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function readKib(path: string, key: string): number {
  try {
    return kib(readFileSync(path, 'utf8'), key);
  } catch {
    return 0;
  }
}

function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (readStat(pid)?.pgrp === pgid) members.push(pid);
  }
  return members;
}

export interface GroupSample {
  readonly processes: number;
  /** CPU seconds used so far by the live members. */
  readonly cpu: number;
  /** Sum of PSS over the members, MiB. */
  readonly pssMb: number;
  /** VmRSS of the group leader, MiB. */
  readonly leaderRssMb: number;
}

/** One look at a process group (leader PID = group id). */
export function sampleGroup(pgid: number): GroupSample {
  const members = groupMembers(pgid);
  let cpu = 0;
  let pss = 0;
  for (const pid of members) {
    cpu += readStat(pid)?.cpu ?? 0;
    pss += readKib(`/proc/${pid}/smaps_rollup`, 'Pss');
  }
  return { processes: members.length, cpu, pssMb: pss / 1024, leaderRssMb: readKib(`/proc/${pgid}/status`, 'VmRSS') / 1024 };
}

/** A thread's scheduler times, seconds: on a CPU, and runnable but waiting for one (run queue). */
export interface SchedTimes {
  readonly ran: number;
  readonly waited: number;
}

/** `/proc/<pid>/task/<tid>/schedstat`: "<ns on a CPU> <ns waiting on a run queue> <time slices>". */
export function parseSchedstat(text: string): SchedTimes | null {
  const [ran, waited] = text.trim().split(/\s+/).map(Number);
  if (ran === undefined || waited === undefined || !Number.isFinite(ran) || !Number.isFinite(waited)) return null;
  return { ran: ran / 1e9, waited: waited / 1e9 };
}

/**
 * The scheduler times of a process's main thread (for the sidecar: its event loop); null without
 * /proc or schedstats. A loop that waited long on the run queue was short of CPU, whatever its
 * own CPU share says: on a shared 2-core box that is what makes a proxy's queue grow.
 */
export function mainThreadSched(pid: number): SchedTimes | null {
  try {
    return parseSchedstat(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the children this process has reaped (cutime + cstime): across one step that is
 * the SIPp client that ran and exited in it, every other child being long-lived.
 */
export function reapedChildrenCpu(): number {
  return readStat('self')?.childrenCpu ?? 0;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

/** The 1-minute load average (NaN where /proc is missing). */
export function loadAverage1(): number {
  return Number(loadAverage().split(' ')[0]);
}

/**
 * CPU seconds the whole machine has been busy so far, summed over its CPUs (/proc/stat: every
 * column but idle and iowait). Over a step, this minus the processes under test is what everything
 * else on a shared box took: the noise beside each figure.
 */
export function machineBusyCpu(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const ticks = fields.slice(0, 8).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/**
 * Datagrams the kernel dropped so far on the UDP socket bound to 127.0.0.1:`port` (its receive
 * buffer was full: load lost before the process even read it), from /proc/net/udp; null when no
 * such socket is listed.
 */
export function udpDrops(port: number): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return null;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops: number | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) drops = (drops ?? 0) + Number(f.at(-1));
  }
  return drops;
}

/** The receive buffer the kernel gave the UDP socket on 127.0.0.1:`port` (`ss -m`), or '?' where ss is missing. */
export function udpReceiveBuffer(port: number): string {
  try {
    const out = execFileSync('ss', ['-u', '-l', '-n', '-m', `sport = :${port}`], { encoding: 'utf8', timeout: 5000 });
    return /rb(\d+)/.exec(out)?.[1] ?? '?';
  } catch {
    return '?';
  }
}
