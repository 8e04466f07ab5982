import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CliWorld, killRunning } from './cli-harness.js';
import { seedInstallationDirect } from './seed.js';

/*
 * `sipwarden … | head`: when the reader closes the pipe, every command ends quietly with exit 0
 * (no EPIPE stack trace, exit 1), and `serve` stops as on SIGTERM (sockets, database closed).
 */

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
  seedInstallationDirect(w);
  writeFileSync(join(w.dir, 'serve.log'), `${JSON.stringify({ level: 30, time: 0, msg: 'refused', decision: 'deny' })}\n`.repeat(2000));
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** What was read from stdout before the pipe was closed. */
  readonly read: string;
}

/** A hang guard, not a speed assertion. */
const WAIT_MS = 20_000;

/**
 * Runs the CLI with stdout on a pipe that the reader closes: at once (like `| head -0`), or once
 * `closeWhen` has seen what it wants; `afterClose` then makes the process write again.
 */
function runIntoClosedPipe(
  args: readonly string[],
  options: { env?: Record<string, string>; closeWhen?: (read: string) => boolean; afterClose?: () => Promise<unknown> } = {},
): Promise<Ended> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let read = '';
  let after: Promise<unknown> = Promise.resolve();
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const close = (): void => {
    child.stdout.destroy();
    after = options.afterClose?.() ?? after;
  };
  if (options.closeWhen) {
    const closeWhen = options.closeWhen;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      read += d;
      if (!child.stdout.destroyed && closeWhen(read)) close();
    });
  } else {
    close();
  }
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      after.then(() => resolve({ code, signal, stderr, read }), reject);
    });
  });
}

describe('a command piped into a reader that stops', () => {
  it.each([
    [['--help']],
    [['operator', '--help']],
    [['group', 'list', '--json']],
    [['export']],
    [['audit']],
    [['logs', 'LOG']],
  ])('sipwarden %s ends quietly with exit 0', async (args) => {
    const ended = await runIntoClosedPipe(
      ['--db', w.db, ...args.map((a) => (a === 'LOG' ? join(w.dir, 'serve.log') : a))],
      { env: { SIPWARDEN_TOKEN: w.adminToken } },
    );
    expect(ended).toMatchObject({ code: 0, signal: null, stderr: '' });
  });
});

describe('serve piped into a reader that stops', () => {
  it.each(['json', 'pretty'])('stops as on SIGTERM with exit 0 at its next log line (%s)', async (format) => {
    const config = join(w.dir, `serve-${format}.json`);
    writeFileSync(
      config,
      // No admin listener: its fixed default port may be taken by another sidecar on this machine.
      JSON.stringify({ database: w.db, sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1' } }, admin: { listen: null } }),
    );
    const ended = await runIntoClosedPipe(['serve', '--config', config, '--log-format', format], {
      closeWhen: (read) => read.includes('sipwarden serving'),
      // A CLI change makes the daemon log 'license data reloaded' into the closed pipe.
      afterClose: () => w.ok(['group', 'add', `After-${format}`]),
    });
    expect(ended).toMatchObject({ code: 0, signal: null, stderr: '' });
    const first = ended.read.split('\n')[0] ?? '';
    if (format === 'pretty') expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  license snapshot loaded database=/);
    else expect(JSON.parse(first)).toMatchObject({ level: 30, msg: 'license snapshot loaded' });
  });
});
