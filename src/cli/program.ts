import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { accessOf } from './command-access.js';
import { registerAppCommands } from './commands/app.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCheckCommand } from './commands/check.js';
import { registerEventsCommands } from './commands/events.js';
import { registerExportImportCommands } from './commands/export-import.js';
import { registerGroupCommands } from './commands/group.js';
import { registerInitCommand } from './commands/init.js';
import { registerLicensesCommands } from './commands/licenses.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerNumberCommands } from './commands/number.js';
import { registerOperatorCommands } from './commands/operator.js';
import { registerServeCommand } from './commands/serve.js';
import { registerStatusCommand } from './commands/status.js';
import { registerUserCommands } from './commands/user.js';
import { rootCommand, type Program } from './root-command.js';
import { commandPath } from './sipwarden-command.js';

const OVERVIEW = `
Exit codes: 0 done, 1 unexpected failure, 2 bad input, 3 not permitted (no/invalid token or a
missing permission), 4 refused by a licence limit. Errors are one line on stderr; nothing is
written when a command fails but, for a refusal (exit 3 or 4), its audit row. Piping into a
reader that stops early (head) ends quietly with exit 0.

Every command except 'init', 'serve', 'logs' and --help needs an operator token (--token or
SIPWARDEN_TOKEN; the environment is safer: arguments are visible in the process list), and the
permissions of everything it reads or writes (see 'sipwarden operator --help').

Getting started:
  export SIPWARDEN_DB=/var/lib/sipwarden/sipwarden.db
  sipwarden init                                   # prints admin's token once
  export SIPWARDEN_TOKEN=...
  sipwarden group add Sunrise
  sipwarden licenses set Sunrise --restrictions on --numbers 100 --apps 50 --valid-until 2027-01-01
  sipwarden user add alice --group Sunrise
  sipwarden number add 1001 --user alice
  sipwarden licenses show Sunrise`;

/**
 * The `sipwarden` command tree. Settings that subcommands inherit (exitOverride, output) are set
 * before any subcommand is added, since commander copies them at creation.
 */
export function buildProgram(): Program {
  const program = rootCommand();
  program
    .description('sipwarden operator CLI: licence limits of SIP virtual numbers and mobile-app installs per project')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true)
    .addHelpText('after', OVERVIEW);
  registerInitCommand(program);
  registerGroupCommands(program);
  registerLicensesCommands(program);
  registerUserCommands(program);
  registerNumberCommands(program);
  registerAppCommands(program);
  registerOperatorCommands(program);
  registerAuditCommand(program);
  registerEventsCommands(program);
  registerCheckCommand(program);
  registerExportImportCommands(program);
  registerServeCommand(program);
  registerStatusCommand(program);
  registerLogsCommand(program);
  describeAccess(program);
  return program;
}

/** The permissions of each command, from COMMAND_ACCESS, in its description and its --help. */
function describeAccess(program: CommandUnknownOpts): void {
  for (const group of program.commands) {
    for (const cmd of group.commands.length === 0 ? [group] : group.commands) {
      const access = accessOf(commandPath(cmd).split(' ').slice(1).join(' '));
      if (access === undefined) continue;
      if (access.needs.length > 0) cmd.description(`${cmd.description()} (needs ${access.needs.join(', ')})`);
      const also = access.alsoWhen === undefined ? '' : `, and ${access.alsoWhen.permission} when ${access.alsoWhen.when}`;
      const needs = access.needs.length === 0 ? 'a valid token only' : access.needs.join(', ');
      cmd.addHelpText('after', `\nPermissions: ${needs}${also}. Refused (exit 3) otherwise; the attempt is written to the audit log.`);
    }
  }
}
