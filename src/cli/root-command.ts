import { Option } from '@commander-js/extra-typings';
import { SipwardenCommand } from './sipwarden-command.js';

/**
 * The `sipwarden` command with the options every command inherits. Its type carries them: each
 * subcommand's `optsWithGlobals()` is typed from these definitions, not from a hand-written
 * interface.
 */
export function rootCommand() {
  return new SipwardenCommand('sipwarden')
    .addOption(new Option('--db <path>', 'the sipwarden database').env('SIPWARDEN_DB').default('./sipwarden.db'))
    .addOption(new Option('--token <token>', 'your operator token').env('SIPWARDEN_TOKEN'));
}

/** What the command files hang their subcommands on. */
export type Program = ReturnType<typeof rootCommand>;

/** The global options as commander parsed them (--db has a default, --token may be absent). */
export type GlobalOptionValues = ReturnType<Program['opts']>;
