import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CliWorld, killRunning, oneErrorLine, runCli, type CliResult } from './cli-harness.js';

/*
 * `sipwarden logs`: the daemon's JSON lines made readable without jq or pino-pretty, from a file
 * or stdin (npm's banner and other non-JSON lines pass through), filtered by call or number.
 */

const refused = { level: 30, time: Date.UTC(2026, 4, 1, 9, 15, 2, 120), app: 'sipwarden', pid: 7, callId: 'c1', method: 'REGISTER', transport: 'udp', source: '127.0.0.1:5070', number: '1001', group: 'Sunrise', decision: 'deny', reason: 'license-expired', us: 41, msg: 'refused' };
const allowed = { ...refused, level: 20, callId: 'c2', number: '2002', group: 'Harbour', decision: 'allow', reason: 'unrestricted', msg: 'allowed' };
const failure = { level: 40, time: Date.UTC(2026, 4, 1, 9, 15, 3), app: 'sipwarden', err: { type: 'Error', message: 'disk I/O error', stack: 'Error: disk I/O error\n    at reload' }, msg: 'license reload failed; deciding on the last good snapshot' };
const text = ['> sipwarden@0.1.0 start', JSON.stringify(refused), JSON.stringify(allowed), JSON.stringify(failure), ''].join('\n');

let w: CliWorld;
let file: string;
beforeAll(() => {
  w = new CliWorld();
  file = join(w.dir, 'serve.log');
  writeFileSync(file, text);
});
afterAll(() => {
  killRunning();
  w.remove();
});

function viaStdin(args: readonly string[], input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('sipwarden logs', () => {
  it('prints every line readably, non-JSON lines as they are, needing no token or database', async () => {
    const r = await viaStdin(['logs'], text);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      '> sipwarden@0.1.0 start',
      '2026-05-01T09:15:02.120Z INFO  refused method=REGISTER number=1001 group=Sunrise decision=deny reason=license-expired transport=udp source=127.0.0.1:5070 callId=c1 us=41',
      '2026-05-01T09:15:02.120Z DEBUG allowed method=REGISTER number=2002 group=Harbour decision=allow reason=unrestricted transport=udp source=127.0.0.1:5070 callId=c2 us=41',
      '2026-05-01T09:15:03.000Z WARN  license reload failed; deciding on the last good snapshot',
      '    Error: disk I/O error',
      '        at reload',
      '',
    ]);
  });

  it('filters by decision, call-id and number; --json prints the matching lines unchanged', async () => {
    const decisions = await runCli(['logs', file, '--decisions']);
    expect(decisions.stdout.trim().split('\n').map((l) => /^\S+ \S+ +(\S+)/.exec(l)?.[1])).toEqual(['refused', 'allowed']);
    const call = await runCli(['logs', file, '--call-id', 'c2', '--json']);
    expect(call.stdout).toBe(`${JSON.stringify(allowed)}\n`);
    const number = await runCli(['logs', file, '--number', '1001', '--json']);
    expect(number.stdout).toBe(`${JSON.stringify(refused)}\n`);
  });

  it('an unreadable file: exit 2, one line', async () => {
    const r = await runCli(['logs', join(w.dir, 'none.log')]);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/^sipwarden: FILE: cannot read .*none\.log \(ENOENT\)/);
  });
});
