import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { findExecutable } from './peer-tools.js';
import { groupAlive } from './process-group.js';

/** How a process ended: an exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process the harness started and must stop. */
export interface ManagedProcess {
  readonly pid: number;
  /** Resolves once the process and everything left of its process group have exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The main process's exit, once it happened. */
  exitStatus(): ProcessExit | undefined;
  /**
   * SIGTERM to the process, SIGKILL to its process group after `graceMs`,
   * then wait for the exit. Idempotent.
   */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export interface StartProcessOptions {
  readonly cwd: string;
  /** stdout and stderr go to these files (no pipes that could fill up and stall the child). */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly env?: NodeJS.ProcessEnv;
}

const DEFAULT_GRACE_MS = 3000;
/** After SIGKILL a process is gone within milliseconds; past this something is badly wrong. */
const KILL_WAIT_MS = 5000;

const live = new Set<number>();
let setprivLookup: ReturnType<typeof findExecutable> | undefined;
let exitHookInstalled = false;

/**
 * Start `command` in its own process group (so its children can be killed
 * with it) with stdin closed. The group id is the child's PID, so killing the
 * group kills nothing the harness did not start.
 *
 * vitest ends a test worker with a signal, so no exit hook of ours runs and a
 * peer whose test crashed before `stop()` would be orphaned. Where util-linux
 * `setpriv` exists, the command runs under `setpriv --pdeathsig TERM`, which
 * execs it in place (same PID) with PR_SET_PDEATHSIG: the kernel sends it
 * SIGTERM when the worker dies.
 */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions): ManagedProcess {
  installExitHook();
  const out = openSync(options.stdoutPath, 'w');
  const err = options.stderrPath === options.stdoutPath ? out : openSync(options.stderrPath, 'w');
  setprivLookup ??= findExecutable('setpriv', 'SIPWARDEN_SETPRIV');
  const setpriv = setprivLookup;
  const [file, argv] = setpriv.found
    ? [setpriv.path, ['--pdeathsig', 'TERM', command, ...args]]
    : [command, [...args]];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out, err],
    detached: true,
  });
  closeSync(out);
  if (err !== out) closeSync(err);

  let status: ProcessExit | undefined;
  const mainExited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
    child.once('error', () => {
      status = { code: null, signal: null };
      resolve(status);
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`cannot start ${command}: ${options.stderrPath}`);
  }
  live.add(pid);
  // "Exited" means the whole group is gone: a main process may exit while its
  // workers are still shutting down (Kamailio does), and those hold the ports.
  const exited = mainExited.then(async (exit) => {
    killGroup(pid, 'SIGKILL');
    await pollUntil(() => !groupAlive(pid), KILL_WAIT_MS);
    live.delete(pid);
    return exit;
  });

  let stopping: Promise<ProcessExit> | undefined;
  const stop = (graceMs = DEFAULT_GRACE_MS): Promise<ProcessExit> => {
    stopping ??= (async () => {
      if (status) return exited;
      signalPid(pid, 'SIGTERM');
      if (await settlesWithin(mainExited, graceMs)) return exited;
      killGroup(pid, 'SIGKILL');
      if (await settlesWithin(mainExited, KILL_WAIT_MS)) return exited;
      throw new Error(`${command} (pid ${pid}) did not exit after SIGKILL`);
    })();
    return stopping;
  };

  return { pid, exited, exitStatus: () => status, stop };
}

async function pollUntil(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return settled;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Signal the whole group led by `pid` (negative PID, kill(2)); children of the process go too. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Group already empty.
  }
}

/** Last resort if a test file dies without its afterAll: never leave peers running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
  });
}
