import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema.js';
import { assertBuilt, BIN } from '../cli/cli-harness.js';
import { startProcess, type ManagedProcess, type ProcessExit } from '../support/managed-process.js';
import type { LogLine } from './sidecar-fixture.js';

/**
 * The real daemon: `node dist/src/cli/bin.js serve --config FILE` as a child process (its own
 * process group, SIGTERM'd by the kernel if the test worker dies), its stdout JSON lines parsed.
 */

export interface ServeProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  exitStatus(): ProcessExit | undefined;
  /** Every complete JSON line written to stdout so far. */
  lines(): LogLine[];
  stderr(): string;
  /**
   * Waits (polling the log file) for a line matching `match` — the `count`-th one when given; rejects
   * if the process exits first. pino writes stdout asynchronously, so a line may land after the SIP
   * answer it belongs to.
   */
  waitForLine(match: (line: LogLine) => boolean, what: string, count?: number): Promise<LogLine>;
  /** SIGTERM, SIGKILL to the group after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

/** A hang guard, not a speed assertion. */
const WAIT_MS = 10_000;
const POLL_MS = 10;

/** Writes a config file; the admin listener on an OS-chosen port unless the config says otherwise (test files run in parallel). */
export function writeConfig(dir: string, config: ConfigInput | Record<string, unknown>, name = 'sipwarden.json'): string {
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify({ admin: { listen: { host: '127.0.0.1', port: 0 } }, ...config }, null, 2)}\n`);
  return path;
}

/** Environment without SIPWARDEN_* (an override from the developer's shell would change the test). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_')));
}

export function spawnServe(dir: string, configPath: string, extraArgs: readonly string[] = []): ServeProcess {
  assertBuilt();
  return spawnNodeScript({ dir, name: 'serve', script: BIN, args: ['serve', '--config', configPath, ...extraArgs], env: cleanEnv() });
}

export interface NodeScriptOptions {
  readonly dir: string;
  /** Names the process in errors and its log files (`<name>.stdout.log`). */
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** Any Node script writing pino JSON lines to stdout (the daemon, the drachtio example), run as `serve` is. */
export function spawnNodeScript(options: NodeScriptOptions): ServeProcess {
  const { dir, name } = options;
  const stdoutPath = join(dir, `${name}.stdout.log`);
  const stderrPath = join(dir, `${name}.stderr.log`);
  const proc: ManagedProcess = startProcess(process.execPath, [options.script, ...options.args], {
    cwd: dir,
    stdoutPath,
    stderrPath,
    env: options.env,
  });
  const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const lines = (): LogLine[] => {
    const text = read(stdoutPath);
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as LogLine);
  };
  return {
    pid: proc.pid,
    exited: proc.exited,
    exitStatus: () => proc.exitStatus(),
    lines,
    stderr: () => read(stderrPath),
    stop: (graceMs) => proc.stop(graceMs),
    async waitForLine(match, what, count = 1) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const found = lines().filter(match)[count - 1];
        if (found) return found;
        const exit = proc.exitStatus();
        if (exit) throw new Error(`${name} exited (${JSON.stringify(exit)}) before ${what}; stderr: ${read(stderrPath)}`);
        if (Date.now() > deadline) throw new Error(`${name}: no ${what} within ${WAIT_MS} ms; stdout: ${read(stdoutPath)}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  };
}

/** The 'sipwarden serving …' line's listeners. */
export interface Serving {
  readonly udp?: { readonly host: string; readonly port: number };
  readonly tcp?: { readonly host: string; readonly port: number };
  readonly ws?: { readonly host: string; readonly port: number };
  readonly tls?: { readonly host: string; readonly port: number };
  readonly wss?: { readonly host: string; readonly port: number };
}

export async function waitUntilServing(serve: ServeProcess): Promise<Serving> {
  const line = await serve.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('sipwarden serving'), "the 'sipwarden serving' line");
  return (line.listen ?? {}) as Serving;
}
