import type { Command } from 'commander';
import {
  addOperator,
  changePermissions,
  listOperators,
  PERMISSIONS,
  removeOperator,
} from '../../store/operators.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable } from '../output.js';
import { withSession } from '../session.js';
import { operatorView } from '../views.js';

const LABELS = { name: 'NAME', permission: 'PERMISSION' } as const;

const PERMISSION_HELP = `
Permissions:
${Object.entries(PERMISSIONS)
  .map(([p, text]) => `  ${p.padEnd(16)}${text}`)
  .join('\n')}
Reads of groups, users, numbers, apps, the audit log and 'check' need only a valid token.`;

export function registerOperatorCommands(program: Command): void {
  const operator = program
    .command('operator')
    .description('operators: who may use this CLI, each with a token and permissions')
    .addHelpText('after', PERMISSION_HELP);

  operator
    .command('add')
    .description('add an operator and print its token once (needs operators:edit)')
    .argument('<name>', 'operator name (letters, digits, . _ @ -)')
    .option('--permission <permission...>', 'permissions to grant; omit for a read-only operator')
    .option('--json', 'print {name, permissions, token} as JSON')
    .addHelpText(
      'after',
      `${PERMISSION_HELP}\n\nThe token is shown only now; only its SHA-256 is stored. Pass it with SIPWARDEN_TOKEN\n(preferred: a --token argument is visible to other users in the process list).\n\nExample:\n  sipwarden operator add carol --permission licenses:edit users:edit`,
    )
    .action((name: string, opts: { permission?: string[]; json?: boolean }, cmd: Command) =>
      withSession(cmd, (s) => {
        const permissions = opts.permission ?? [];
        s.require('operators:edit', { action: 'operator.add', target: name, request: { name, permissions } });
        const created = unwrap(addOperator(s.db, { name, permissions }, s.change()), LABELS);
        if (opts.json) return printJson({ name, permissions: created.operator.permissions, token: created.token });
        printLine(`Added operator '${name}' (${created.operator.permissions.join(', ') || 'read-only'}).`);
        printLine(`Token (shown once, store it now): ${created.token}`);
      }),
    );

  operator
    .command('list')
    .description('list operators and their permissions (never their tokens)')
    .option('--json', 'print JSON instead of text')
    .action((opts: { json?: boolean }, cmd: Command) =>
      withSession(cmd, (s) => {
        const operators = listOperators(s.db);
        if (opts.json) return printJson(operators.map(operatorView));
        printTable(['OPERATOR', 'PERMISSIONS'], operators.map((o) => [o.name, o.permissions.join(' ')]));
      }),
    );

  operator
    .command('remove')
    .description('remove an operator; its token stops working (needs operators:edit)')
    .argument('<name>', 'operator name')
    .addHelpText('after', '\nRemoving the last operator with operators:edit is refused (exit 2).')
    .action((name: string, _opts: unknown, cmd: Command) =>
      withSession(cmd, (s) => {
        s.require('operators:edit', { action: 'operator.remove', target: name });
        unwrap(removeOperator(s.db, name, s.change()), LABELS);
        printLine(`Removed operator '${name}'.`);
      }),
    );

  for (const grant of [true, false]) {
    const verb = grant ? 'grant' : 'revoke';
    operator
      .command(verb)
      .description(`${verb} permissions ${grant ? 'to' : 'from'} an operator (needs operators:edit)`)
      .argument('<name>', 'operator name')
      .argument('<permission...>', Object.keys(PERMISSIONS).join(', '))
      .addHelpText('after', grant ? PERMISSION_HELP : '\nRevoking operators:edit from its last holder is refused (exit 2).')
      .action((name: string, permissions: string[], _opts: unknown, cmd: Command) =>
        withSession(cmd, (s) => {
          s.require('operators:edit', { action: `operator.${verb}`, target: name, request: { permissions } });
          const update = unwrap(changePermissions(s.db, name, permissions, grant, s.change()), LABELS);
          printLine(`Operator '${name}': ${update.after.join(', ') || 'read-only'}.`);
        }),
      );
  }
}
