import { CommanderError } from '@commander-js/extra-typings';
import { CliError, EXIT } from './errors.js';
import { buildProgram } from './program.js';

function describe(err: unknown): string {
  if (err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
    return 'the database stayed locked by another writer; expected it to be free within the busy timeout, try again';
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code. The one
 * place where errors become output: one line `sipwarden: …` on stderr.
 */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end commander with an error object but are not failures.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      process.stderr.write(`sipwarden: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT.badInput;
    }
    if (err instanceof CliError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`sipwarden: unexpected failure: ${describe(err)}\n`);
    return EXIT.failure;
  }
}
