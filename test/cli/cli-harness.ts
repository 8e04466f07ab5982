import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChangeContext } from '../../src/store/change-context.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { addOperator } from '../../src/store/operators.js';
import { fingerprint } from '../store/temp-db.js';

/**
 * Runs the BUILT CLI (`node dist/src/cli/bin.js`) as a child process against a real SQLite file
 * in a temp folder. `npm test` builds first; when running vitest alone, run `npm run build`.
 */
export const BIN = resolve('dist/src/cli/bin.js');

export function assertBuilt(): void {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: the CLI tests run the built CLI; run 'npm run build' first ('npm test' does)`);
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills every child still running (call from afterEach/afterAll so a failed test leaks nothing). */
export function killRunning(): void {
  for (const child of running) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  running.clear();
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPWARDEN_')));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A database made by `sipwarden init`, and helpers to run commands as one of its operators. */
export class CliWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'sipwarden-cli-'));
  readonly db = join(this.dir, 'sipwarden.db');
  adminToken = '';

  async init(): Promise<this> {
    assertBuilt();
    const r = await runCli(['--db', this.db, 'init', '--json']);
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
    this.adminToken = (JSON.parse(r.stdout) as { token: string }).token;
    return this;
  }

  /** Runs as admin unless another token is given (null: no token at all). */
  run(args: readonly string[], token: string | null = this.adminToken): Promise<CliResult> {
    return runCli(['--db', this.db, ...args], token === null ? {} : { SIPWARDEN_TOKEN: token });
  }

  /** Runs a command that must succeed and parses its JSON output. */
  async json<T = unknown>(args: readonly string[], token: string | null = this.adminToken): Promise<T> {
    const r = await this.run([...args, '--json'], token);
    if (r.code !== 0) throw new Error(`'${args.join(' ')}' exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(args: readonly string[], token: string | null = this.adminToken): Promise<string> {
    const r = await this.run(args, token);
    if (r.code !== 0) throw new Error(`'${args.join(' ')}' exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Writes through the store in this process, as the admin: for set-up that is not what a test is
   * about (each CLI process costs a second or more on a loaded machine).
   */
  direct<T>(fn: (db: Db, ctx: ChangeContext) => T): T {
    const db = openDatabase(this.db);
    try {
      return fn(db, { now: Date.now(), operator: 'admin' });
    } finally {
      db.close();
    }
  }

  /** An operator made through the store; returns its token. */
  operatorDirect(name: string, permissions: readonly string[] = []): string {
    return this.direct((db, ctx) => {
      const made = addOperator(db, { name, permissions: [...permissions] }, ctx);
      if (!made.ok) throw new Error(`operator ${name}: ${made.failure.message}`);
      return made.value.token;
    });
  }

  async operator(name: string, permissions: readonly string[] = []): Promise<string> {
    const args = ['operator', 'add', name, ...(permissions.length > 0 ? ['--permission', ...permissions] : [])];
    return (await this.json<{ token: string }>(args)).token;
  }

  /** Every row of every table (but `except`): equal fingerprints mean nothing was written. */
  fingerprint(except: readonly string[] = []): string {
    const db = openDatabase(this.db, { readonly: true });
    try {
      return fingerprint(db, except);
    } finally {
      db.close();
    }
  }

  /** Audit rows written after row `afterId`. */
  auditSince(afterId: number): { operator: string | null; action: string; outcome: string; root_group: string | null; target: string | null; new_value: string | null }[] {
    return this.query('SELECT operator, action, outcome, root_group, target, new_value FROM audit_log WHERE id > ? ORDER BY id', afterId);
  }

  lastAuditId(): number {
    return this.query<{ id: number | null }>('SELECT MAX(id) AS id FROM audit_log')[0]?.id ?? 0;
  }

  query<T>(sql: string, ...params: unknown[]): T[] {
    const db = openDatabase(this.db, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An error run: exactly one line on stderr, starting with `sipwarden: `. */
export function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !lines[0]?.startsWith('sipwarden: ')) {
    throw new Error(`expected one 'sipwarden: ' line on stderr, got ${JSON.stringify(r.stderr)}`);
  }
  return lines[0];
}
