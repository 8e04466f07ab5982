import { addNumber, findNumber, listNumbers, removeNumber } from '../../store/numbers.js';
import { findUser } from '../../store/users.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable, timeOrDash } from '../output.js';
import { withSession } from '../session.js';
import { numberView } from '../views.js';
import type { Program } from '../root-command.js';

export function registerNumberCommands(program: Program): void {
  const number = program
    .command('number')
    .description("virtual numbers: SIP accounts (the user part of an AOR) owned by users, counted against the root group");

  number
    .command('add')
    .description('add a virtual number to a user; refused with exit 4 when a limit is used up')
    .argument('<number>', "the SIP user part, e.g. 1001 or +493012345 (letters, digits, . _ -, optional leading +)")
    .requiredOption('--user <login>', 'the user who owns the number')
    .addHelpText(
      'after',
      "\nRefused (exit 4) while the root group's restrictions are on and its virtual-number limit, or\nthe user's personal license, is used up. The check and the insert are one transaction, so\nconcurrent commands can never exceed a limit.\n\nExample:\n  sipwarden number add 1001 --user alice",
    )
    .action((num, opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: findUser(s.db, opts.user)?.root ?? null,
          target: num,
          request: { number: num, user: opts.user },
        });
        const refused = `number ${num} refused`;
        const n = unwrap(addNumber(s.db, { number: num, login: opts.user }, s.change()), {
          number: 'NUMBER',
          user: '--user',
          virtualNumbers: refused,
          personalNumbers: refused,
        });
        printLine(`Added number ${n.number} to user '${n.user}' (root group '${n.root}').`);
      }),
    );

  number
    .command('list')
    .description('list virtual numbers in creation order (the newest are the first beyond a lowered limit)')
    .option('--group <group>', 'only numbers of users in this group and its subgroups')
    .option('--user <login>', 'only numbers of this user')
    .option('--json', 'print JSON instead of text')
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: opts.group === undefined ? (findUser(s.db, opts.user ?? '')?.root ?? null) : s.rootOf(opts.group) });
        const filter = { ...(opts.group === undefined ? {} : { group: opts.group }), ...(opts.user === undefined ? {} : { user: opts.user }) };
        const numbers = unwrap(listNumbers(s.db, filter), { group: '--group', user: '--user' });
        if (opts.json) return printJson(numbers.map(numberView));
        printTable(
          ['NUMBER', 'USER', 'GROUP', 'ROOT', 'CREATED'],
          numbers.map((n) => [n.number, n.user, n.group, n.root, timeOrDash(n.createdAt)]),
        );
      }),
    );

  number
    .command('remove')
    .description('remove a virtual number; its app installs go with it and free their licenses')
    .argument('<number>', 'the number')
    .action((num, _opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: findNumber(s.db, num)?.root ?? null, target: num });
        unwrap(removeNumber(s.db, num, s.change()), { number: 'NUMBER' });
        printLine(`Removed number ${num}.`);
      }),
    );
}
