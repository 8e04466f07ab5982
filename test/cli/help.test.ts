import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killRunning, runCli } from './cli-harness.js';

/* --help on every command: exit 0, needs no token or database, every option described. */

const COMMANDS: readonly (readonly string[])[] = [
  [],
  ['init'],
  ['group'], ['group', 'add'], ['group', 'list'], ['group', 'show'], ['group', 'remove'],
  ['licenses'], ['licenses', 'show'], ['licenses', 'set'],
  ['user'], ['user', 'add'], ['user', 'licenses'], ['user', 'list'], ['user', 'show'], ['user', 'remove'],
  ['number'], ['number', 'add'], ['number', 'list'], ['number', 'remove'],
  ['app'], ['app', 'list'], ['app', 'release'],
  ['operator'], ['operator', 'add'], ['operator', 'list'], ['operator', 'remove'], ['operator', 'grant'], ['operator', 'revoke'],
  ['audit'], ['events'], ['events', 'list'], ['events', 'retry'], ['check'], ['export'], ['import'], ['serve'], ['logs'],
];

beforeAll(() => assertBuilt());
afterAll(() => killRunning());

describe.concurrent('--help', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(program)', c] as const))('%s', async (_name, command) => {
    const r = await runCli([...command, '--help'], { SIPWARDEN_DB: '/nonexistent/dir/x.db' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: sipwarden${command.length > 0 ? ` ${command.join(' ')}` : ''}`);
    // Every option line carries a description after its flags.
    const options = r.stdout.split('Options:')[1]?.split(/\n\n/)[0] ?? '';
    for (const line of options.split('\n').filter((l) => /^\s+-/.test(l))) {
      expect(line.trim()).toMatch(/^\S.*\s{2,}\S/);
    }
  });

  it('licenses set and check carry examples', async () => {
    const set = await runCli(['licenses', 'set', '--help']);
    expect(set.stdout).toContain('sipwarden licenses set Sunrise --restrictions on --numbers 200 --apps 150');
    const check = await runCli(['check', '--help']);
    expect(check.stdout).toContain("REFUSED (403, license-expired): group 'Sunrise' licence expired at");
  });

  it('the overview lists the exit codes and the global options', async () => {
    const r = await runCli(['--help']);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--db <path>\s+the sipwarden database \(default: "\.\/sipwarden\.db", env: SIPWARDEN_DB\)/);
    expect(text).toMatch(/--token <token>\s+your operator token \(env: SIPWARDEN_TOKEN\)/);
    expect(text).toContain('4 refused by a licence limit');
  });
});
