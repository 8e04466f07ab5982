import { addGroup } from '../../src/store/groups.js';
import { setLicenses } from '../../src/store/license-settings.js';
import { addNumber } from '../../src/store/numbers.js';
import type { Outcome } from '../../src/store/outcome.js';
import { addUser } from '../../src/store/users.js';
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

function must<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new Error(`${what}: ${outcome.failure.message}`);
  return outcome.value;
}

/** The same installation written through the store in this process (for tests not about seeding). */
export function seedInstallationDirect(w: CliWorld): void {
  w.direct((db, ctx) => {
    for (const [name, parent] of [['Sunrise', null], ['Block A', 'Sunrise'], ['Harbour', null]] as const) {
      must(addGroup(db, { name, parent }, ctx), `group ${name}`);
    }
    must(
      setLicenses(db, 'Sunrise', { restrictions: true, virtualNumbers: 3, mobileApps: 2, validity: true, validFrom: Date.UTC(2026, 0, 1), validUntil: Date.UTC(2100, 0, 1) }, ctx),
      'licences',
    );
    must(addUser(db, { login: 'alice', group: 'Block A', personalNumbers: 1 }, ctx), 'alice');
    must(addUser(db, { login: 'bob', group: 'Sunrise' }, ctx), 'bob');
    for (const [number, login] of [['1001', 'alice'], ['2001', 'bob'], ['2002', 'bob']] as const) must(addNumber(db, { number, login }, ctx), number);
  });
}
