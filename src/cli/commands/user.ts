import { rootGroupName } from '../../store/groups.js';
import { listNumbers } from '../../store/numbers.js';
import { addUser, findUser, listUsers, removeUser, setUserLicenses, type PersonalLicenseChange } from '../../store/users.js';
import { BadInputError } from '../errors.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable } from '../output.js';
import { noneToNull, parseLimit, parseLimitOrNone } from '../parse-values.js';
import { withSession, type Session } from '../session.js';
import { userView } from '../views.js';
import type { Program } from '../root-command.js';

const LABELS = { login: 'LOGIN', group: '--group', personalNumbers: '--numbers', personalApps: '--apps' } as const;
const JSON_HELP = 'print JSON instead of text';

function cap(value: number | null): string {
  return value === null ? 'no cap' : String(value);
}

function rootOfUser(s: Session, login: string): string | null {
  return findUser(s.db, login)?.root ?? null;
}

export function registerUserCommands(program: Program): void {
  const user = program
    .command('user')
    .description("users of any group; what they use counts against their tree's root group");

  user
    .command('add')
    .description('add a user, optionally with personal licenses')
    .argument('<login>', 'login, unique on the server (letters, digits, . _ @ -)')
    .requiredOption('--group <group>', 'the group the user belongs to (any group of a tree)')
    .option('--numbers <n>', "personal license: at most this many virtual numbers (not above the group's limit)", parseLimit)
    .option('--apps <n>', "personal license: at most this many mobile-app installs (not above the group's limit)", parseLimit)
    .addHelpText('after', '\nExample:\n  sipwarden user add alice --group "Block A" --numbers 2 --apps 1')
    .action((login, opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootGroupName(s.db, opts.group) ?? null,
          target: login,
          request: { login, group: opts.group, personalNumbers: opts.numbers ?? null, personalApps: opts.apps ?? null },
        });
        const u = unwrap(
          addUser(s.db, { login, group: opts.group, personalNumbers: opts.numbers ?? null, personalApps: opts.apps ?? null }, s.change()),
          LABELS,
        );
        printLine(`Added user '${u.login}' to group '${u.group}' (numbers: ${cap(u.personalNumbers)}, apps: ${cap(u.personalApps)}).`);
      }),
    );

  user
    .command('licenses')
    .description("set a user's personal licenses")
    .argument('<login>', 'the user')
    .option('--numbers <n|none>', "at most this many virtual numbers; none = no personal cap (the group's limit still applies)", parseLimitOrNone)
    .option('--apps <n|none>', "at most this many mobile-app installs; none = no personal cap", parseLimitOrNone)
    .addHelpText(
      'after',
      "\nA personal license can never exceed the root group's limit. Lowering it below what the user\nalready uses deletes nothing.\n\nExample:\n  sipwarden user licenses alice --numbers 3 --apps none",
    )
    .action((login, opts, cmd) =>
      withSession(cmd, (s) => {
        const change: PersonalLicenseChange = {
          ...(opts.numbers === undefined ? {} : { personalNumbers: noneToNull(opts.numbers) }),
          ...(opts.apps === undefined ? {} : { personalApps: noneToNull(opts.apps) }),
        };
        if (Object.keys(change).length === 0) throw new BadInputError('nothing to change; expected --numbers and/or --apps');
        s.authorize({ rootGroup: rootOfUser(s, login), target: login, request: change });
        const u = unwrap(setUserLicenses(s.db, login, change, s.change()), LABELS);
        printLine(
          `Personal licenses of '${login}': numbers ${cap(u.before.personalNumbers)} -> ${cap(u.after.personalNumbers)}, apps ${cap(u.before.personalApps)} -> ${cap(u.after.personalApps)}.`,
        );
      }),
    );

  user
    .command('list')
    .description('list users, oldest first')
    .option('--group <group>', 'only users of this group and its subgroups')
    .option('--json', JSON_HELP)
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: s.rootOf(opts.group) });
        const users = unwrap(listUsers(s.db, opts.group === undefined ? {} : { group: opts.group }), LABELS);
        if (opts.json) return printJson(users.map(userView));
        printTable(
          ['LOGIN', 'GROUP', 'ROOT', 'NUMBERS', 'APPS'],
          users.map((u) => [
            u.login,
            u.group,
            u.root,
            `${u.numbersUsed}/${u.personalNumbers ?? '-'}`,
            `${u.appsUsed}/${u.personalApps ?? '-'}`,
          ]),
        );
      }),
    );

  user
    .command('show')
    .description('show a user: group, personal licenses, what it uses, its numbers')
    .argument('<login>', 'the user')
    .option('--json', JSON_HELP)
    .action((login, opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootOfUser(s, login), target: login });
        const u = findUser(s.db, login);
        if (!u) throw new BadInputError(`LOGIN: user '${login}' does not exist; see 'sipwarden user list'`);
        const numbers = unwrap(listNumbers(s.db, { user: login })).map((n) => n.number);
        if (opts.json) return printJson({ ...userView(u), numbers });
        printLine(`User:              ${u.login}`);
        printLine(`Group:             ${u.group} (root group '${u.root}')`);
        printLine(`Virtual numbers:   ${u.numbersUsed} used, personal license: ${cap(u.personalNumbers)}`);
        printLine(`Mobile apps:       ${u.appsUsed} used, personal license: ${cap(u.personalApps)}`);
        printLine(`Numbers:           ${numbers.length === 0 ? '-' : numbers.join(', ')}`);
      }),
    );

  user
    .command('remove')
    .description('remove a user that owns no virtual numbers')
    .argument('<login>', 'the user')
    .addHelpText(
      'after',
      "\nA user that still owns virtual numbers is refused (exit 2): numbers are SIP accounts and\nlicenses, so remove them first on purpose ('sipwarden number remove N').",
    )
    .action((login, _opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootOfUser(s, login), target: login });
        unwrap(removeUser(s.db, login, s.change()), LABELS);
        printLine(`Removed user '${login}'.`);
      }),
    );
}
