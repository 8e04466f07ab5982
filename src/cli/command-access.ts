import type { Permission } from '../store/operators.js';

/**
 * What each command may read or write, as permissions: the one table the CLI enforces (see
 * `Session.authorize`) and the README's "Permissions" table repeats (a test keeps the two equal).
 *
 * The rule: a command needs the permission of every kind of data it reads or writes.
 * - `licenses:edit`: Licences sections (limits, used counts, validity, reminders), their
 *   lifecycle events, and any explanation built from them (`check`).
 * - `users:edit`: users and their personal licences, virtual numbers, app installs with their push
 *   parameters, Contact and User-Agent (event payloads carry these too).
 * - `groups:edit`: changes to the group tree.
 * - `operators:edit`: operators and their permissions.
 * The group tree itself (names, parents, how many subgroups and users) is how every other command
 * addresses data, carries no licence, personal or push data, and is readable with any valid token.
 * The audit log and an export hold old and new values of every kind, so they need every
 * permission whose data they hold.
 */
export interface CommandAccess {
  /** Checked before the command reads anything but the group tree. */
  readonly needs: readonly Permission[];
  /** Needed as well in the situation described (checked once the command knows). */
  readonly alsoWhen?: { readonly permission: Permission; readonly when: string };
}

export const COMMAND_ACCESS = {
  'group add': { needs: ['groups:edit'] },
  'group list': { needs: [] },
  'group show': { needs: [] },
  'group remove': { needs: ['groups:edit'] },
  'licenses show': { needs: ['licenses:edit'] },
  'licenses set': { needs: ['licenses:edit'] },
  'user add': { needs: ['users:edit'] },
  'user licenses': { needs: ['users:edit'] },
  'user list': { needs: ['users:edit'] },
  'user show': { needs: ['users:edit'] },
  'user remove': { needs: ['users:edit'] },
  'number add': { needs: ['users:edit'] },
  'number list': { needs: ['users:edit'] },
  'number remove': { needs: ['users:edit'] },
  'app list': { needs: ['users:edit'] },
  'app release': { needs: ['users:edit'] },
  'operator add': { needs: ['operators:edit'] },
  'operator list': { needs: ['operators:edit'] },
  'operator remove': { needs: ['operators:edit'] },
  'operator grant': { needs: ['operators:edit'] },
  'operator revoke': { needs: ['operators:edit'] },
  audit: { needs: ['licenses:edit', 'users:edit', 'operators:edit'] },
  'events list': { needs: ['licenses:edit', 'users:edit'] },
  'events retry': { needs: ['licenses:edit'] },
  check: { needs: ['licenses:edit', 'users:edit'] },
  export: { needs: ['licenses:edit', 'users:edit', 'operators:edit'] },
  import: {
    needs: ['groups:edit', 'licenses:edit', 'users:edit'],
    alsoWhen: { permission: 'operators:edit', when: 'the file adds operators or changes their permissions' },
  },
} as const satisfies Record<string, CommandAccess>;

export type CommandName = keyof typeof COMMAND_ACCESS;

/** Commands that need no token at all. */
export const TOKENLESS_COMMANDS = ['init', 'serve', 'status', 'logs'] as const;

export function accessOf(name: string): CommandAccess | undefined {
  return Object.hasOwn(COMMAND_ACCESS, name) ? COMMAND_ACCESS[name as CommandName] : undefined;
}
