import { Command, type CommandUnknownOpts, type HelpContext } from '@commander-js/extra-typings';
import { BadInputError } from './errors.js';

/** The full name of a command, e.g. `sipwarden group add`. */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * commander's Command, with its usage errors (unknown option, missing argument, bad choice) and
 * its "missing subcommand" help turned into one-line BadInputErrors (exit 2) that name the
 * command, instead of text on stderr and process.exit.
 */
export class SipwardenCommand extends Command {
  override createCommand(name?: string): SipwardenCommand {
    return new SipwardenCommand(name);
  }

  override error(message: string): never {
    const text = message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
    throw new BadInputError(`${text}; see '${commandPath(this)} --help'`);
  }

  override help(context?: HelpContext | ((str: string) => string)): never {
    if (typeof context === 'object' && context.error) {
      const subcommands = this.commands.map((c) => c.name()).join(', ');
      throw new BadInputError(
        `'${commandPath(this)}' needs a command; expected one of: ${subcommands} (see '${commandPath(this)} --help')`,
      );
    }
    return typeof context === 'function' ? super.help(context) : super.help(context);
  }
}
