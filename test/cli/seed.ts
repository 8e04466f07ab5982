import type { CliWorld } from './cli-harness.js';

/**
 * A small installation through the CLI itself:
 * Sunrise (root; restrictions on, 3 numbers, 2 apps, valid 2026-01-01 … 2100-01-01)
 *   └ Block A — alice (personal: 1 number) owns 1001
 * Sunrise — bob owns 2001 and 2002 (the tree's 3 numbers are used up)
 * Harbour (root; restrictions off)
 */
export async function seedInstallation(w: CliWorld): Promise<void> {
  await w.ok(['group', 'add', 'Sunrise']);
  await w.ok(['group', 'add', 'Block A', '--parent', 'Sunrise']);
  await w.ok(['group', 'add', 'Harbour']);
  await w.ok([
    'licenses', 'set', 'Sunrise', '--restrictions', 'on', '--numbers', '3', '--apps', '2',
    '--valid-from', '2026-01-01', '--valid-until', '2100-01-01',
  ]);
  await w.ok(['user', 'add', 'alice', '--group', 'Block A', '--numbers', '1']);
  await w.ok(['user', 'add', 'bob', '--group', 'Sunrise']);
  await w.ok(['number', 'add', '1001', '--user', 'alice']);
  await w.ok(['number', 'add', '2001', '--user', 'bob']);
  await w.ok(['number', 'add', '2002', '--user', 'bob']);
}
