import { readFileSync } from 'node:fs';
import { exportConfig } from '../../store/config-export.js';
import { importConfig, planOperatorImport } from '../../store/config-import.js';
import { BadInputError } from '../errors.js';
import { failureError } from '../failure.js';
import { printJson, printLine } from '../output.js';
import { withSession } from '../session.js';
import type { Program } from '../root-command.js';

const FORMAT_HELP = `
The file holds groups (with the Licences section of each root group), users with their personal
licenses, virtual numbers in creation order, and operators with their permissions. Left out on
purpose: operator tokens and their hashes (a file that grants access must never leave the
server), app installs (runtime state: each app claims a license again on its next REGISTER) and
the audit log.`;

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new BadInputError(`FILE: cannot read ${file} (${reason}); expected a file written by 'sipwarden export'`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadInputError(`FILE: ${file} is not JSON (${err instanceof Error ? err.message : 'parse error'}); expected a file written by 'sipwarden export'`);
  }
}

export function registerExportImportCommands(program: Program): void {
  program
    .command('export')
    .description('print the whole configuration as JSON on stdout')
    .addHelpText('after', `${FORMAT_HELP}\n\nExample:\n  sipwarden export > backup.json`)
    .action((_opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize();
        printJson(exportConfig(s.db));
      }),
    );

  program
    .command('import')
    .description('add the trees of an exported file, all or nothing')
    .argument('<file>', "a JSON file written by 'sipwarden export'")
    .option('--json', 'print what was imported, with the tokens of new operators, as JSON')
    .addHelpText(
      'after',
      `${FORMAT_HELP}

Import adds whole trees: no group, user or number of the file may exist yet, and every parent,
group and owner must be in the file. Operators of the file that do not exist are created, each
with a new token printed once; existing ones get the file's permissions; others are left alone.
Refused, writing nothing: a malformed file or a broken invariant (exit 2), numbers above a
limit of the file (exit 4).

Example:
  sipwarden --db new.db import backup.json`,
    )
    .action(async (file, opts, cmd) => {
      const value = readJson(file);
      // zod is loaded only here: it would double the start-up time of every other command.
      const { parseConfigDocument } = await import('../../store/config-schema.js');
      const parsed = parseConfigDocument(value);
      if (!parsed.ok) throw new BadInputError(`FILE: ${parsed.path}: ${parsed.message}`);
      const doc = parsed.document;
      await withSession(cmd, (s) => {
        s.authorize({ target: file });
        const plan = planOperatorImport(s.db, doc);
        const changesOperators = plan.create.length > 0 || plan.update.length > 0;
        if (changesOperators) {
          s.authorizeAlso({
            target: file,
            request: { create: plan.create.map((o) => o.name), update: plan.update.map((o) => o.name) },
          });
        }
        const result = importConfig(s.db, doc, s.change(), { allowOperatorChanges: s.has('operators:edit') });
        if (!result.ok) throw failureError({ ...result.failure, field: `FILE: ${result.failure.field}` });
        const summary = result.value;
        if (opts.json) return printJson(summary);
        printLine(`Imported ${summary.groups} group(s), ${summary.users} user(s), ${summary.numbers} number(s).`);
        if (summary.operatorsUpdated.length > 0) printLine(`Updated permissions of: ${summary.operatorsUpdated.join(', ')}.`);
        for (const o of summary.operatorsCreated) printLine(`New operator '${o.name}', token (shown once): ${o.token}`);
      });
    });
}
