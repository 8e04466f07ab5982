import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliWorld, killRunning } from './cli-harness.js';

/*
 * Numbers are stored and looked up as the SIP server matches AoRs (issue 7, hole 5): Kamailio's
 * registrar binds LOBBY as lobby, so `number add LOBBY` stores lobby and every command finds it in
 * any case.
 */

let w: CliWorld;
beforeAll(async () => {
  w = await new CliWorld().init();
  await w.ok(['group', 'add', 'Lobby Co']);
  await w.ok(['user', 'add', 'zoe', '--group', 'Lobby Co']);
}, 60_000);
afterAll(() => {
  killRunning();
  w.remove();
});

describe('numbers in any case', () => {
  it('number add stores the number normalised and refuses the same number in another case', async () => {
    expect(await w.ok(['number', 'add', 'LOBBY', '--user', 'zoe'])).toContain('Added number lobby');
    const before = w.fingerprint();
    const twice = await w.run(['number', 'add', 'Lobby', '--user', 'zoe']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("number 'lobby' already exists");
    expect(w.fingerprint()).toBe(before);
    expect((await w.json<{ number: string }[]>(['number', 'list'])).map((n) => n.number)).toEqual(['lobby']);
  }, 60_000);

  it('check and number remove find it in any case', async () => {
    expect(await w.json(['check', 'LoBbY'])).toMatchObject({ decision: 'allow', details: { number: 'lobby' } });
    expect(await w.ok(['number', 'remove', 'LOBBY'])).toContain('Removed number');
    expect(await w.json(['number', 'list'])).toEqual([]);
  }, 60_000);
});
