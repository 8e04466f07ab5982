import {
  addOperator,
  changePermissions,
  listOperators,
  PERMISSIONS,
  removeOperator,
} from '../../store/operators.js';
import { COMMAND_ACCESS, type CommandAccess } from '../command-access.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable } from '../output.js';
import { withSession } from '../session.js';
import { operatorView } from '../views.js';
import type { Program } from '../root-command.js';

const LABELS = { name: 'NAME', permission: 'PERMISSION' } as const;

/** Commands side by side that need the same permissions: `group add, group remove  groups:edit`. */
function accessLines(): string[] {
  const byNeeds = new Map<string, string[]>();
  for (const [name, access] of Object.entries(COMMAND_ACCESS) as [string, CommandAccess][]) {
    const needs = access.needs.length === 0 ? 'a valid token only' : access.needs.join(' ');
    const also = access.alsoWhen === undefined ? '' : ` (+ ${access.alsoWhen.permission} when ${access.alsoWhen.when})`;
    byNeeds.set(needs + also, [...(byNeeds.get(needs + also) ?? []), name]);
  }
  return [...byNeeds].map(([needs, names]) => `  ${names.join(', ')}: ${needs}`);
}

const PERMISSION_HELP = `
Permissions (each covers viewing as well as changing its data):
${Object.entries(PERMISSIONS)
  .map(([p, text]) => `  ${p.padEnd(16)}${text}`)
  .join('\n')}
A command needs the permission of everything it reads or writes:
${accessLines().join('\n')}
The group tree (names and parents) is readable by every operator: it is how data is addressed.
'init', 'serve' and 'logs' need no token.`;

export function registerOperatorCommands(program: Program): void {
  const operator = program
    .command('operator')
    .description('operators: who may use this CLI, each with a token and permissions')
    .addHelpText('after', PERMISSION_HELP);

  operator
    .command('add')
    .description('add an operator and print its token once')
    .argument('<name>', 'operator name (letters, digits, . _ @ -)')
    .option('--permission <permission...>', 'permissions to grant; without any, the operator can only list the group tree')
    .option('--json', 'print {name, permissions, token} as JSON')
    .addHelpText(
      'after',
      `${PERMISSION_HELP}\n\nThe token is shown only now; only its SHA-256 is stored. Pass it with SIPWARDEN_TOKEN\n(preferred: a --token argument is visible to other users in the process list).\n\nExample:\n  sipwarden operator add carol --permission licenses:edit users:edit`,
    )
    .action((name, opts, cmd) =>
      withSession(cmd, (s) => {
        const permissions = opts.permission ?? [];
        s.authorize({ target: name, request: { name, permissions } });
        const created = unwrap(addOperator(s.db, { name, permissions }, s.change()), LABELS);
        if (opts.json) return printJson({ name, permissions: created.operator.permissions, token: created.token });
        printLine(`Added operator '${name}' (${created.operator.permissions.join(', ') || 'no permissions'}).`);
        printLine(`Token (shown once, store it now): ${created.token}`);
      }),
    );

  operator
    .command('list')
    .description('list operators and their permissions (never their tokens)')
    .option('--json', 'print JSON instead of text')
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize();
        const operators = listOperators(s.db);
        if (opts.json) return printJson(operators.map(operatorView));
        printTable(['OPERATOR', 'PERMISSIONS'], operators.map((o) => [o.name, o.permissions.join(' ')]));
      }),
    );

  operator
    .command('remove')
    .description('remove an operator; its token stops working')
    .argument('<name>', 'operator name')
    .addHelpText('after', '\nRemoving the last operator with operators:edit is refused (exit 2).')
    .action((name, _opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ target: name });
        unwrap(removeOperator(s.db, name, s.change()), LABELS);
        printLine(`Removed operator '${name}'.`);
      }),
    );

  for (const grant of [true, false]) {
    const verb = grant ? 'grant' : 'revoke';
    operator
      .command(verb)
      .description(`${verb} permissions ${grant ? 'to' : 'from'} an operator`)
      .argument('<name>', 'operator name')
      .argument('<permission...>', Object.keys(PERMISSIONS).join(', '))
      .addHelpText('after', grant ? PERMISSION_HELP : '\nRevoking operators:edit from its last holder is refused (exit 2).')
      .action((name, permissions, _opts, cmd) =>
        withSession(cmd, (s) => {
          s.authorize({ target: name, request: { permissions } });
          const update = unwrap(changePermissions(s.db, name, permissions, grant, s.change()), LABELS);
          printLine(`Operator '${name}': ${update.after.join(', ') || 'no permissions'}.`);
        }),
      );
  }
}
