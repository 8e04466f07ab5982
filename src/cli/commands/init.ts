import { createFirstOperator } from '../../store/operators.js';
import { flowTokenKey } from '../../store/sip-keys.js';
import { unwrap } from '../failure.js';
import { printJson, printLine } from '../output.js';
import { globalOptions } from '../session.js';
import type { Program } from '../root-command.js';

export function registerInitCommand(program: Program): void {
  program
    .command('init')
    .description("create and migrate the database (--db) and its first operator 'admin' with every permission")
    .option('--json', 'print {database, operator, token} as JSON')
    .addHelpText(
      'after',
      "\nPrints admin's token once (only its SHA-256 is stored). Refused (exit 2) when the database\nalready has operators. Needs no token.\n\nExample:\n  sipwarden --db /var/lib/sipwarden/sipwarden.db init",
    )
    .action(async (opts, cmd) => {
      const { db: path } = globalOptions(cmd);
      const { openDatabase } = await import('../../store/database.js');
      const db = openDatabase(path, { create: true });
      try {
        const created = unwrap(createFirstOperator(db, Date.now()), { database: '--db' });
        // The proxy's flow token key is made here, once, and kept for every later serve.
        flowTokenKey(db, Date.now());
        if (opts.json) return printJson({ database: path, operator: created.operator.name, token: created.token });
        printLine(`Created database ${path} and operator 'admin' with every permission.`);
        printLine(`Token (shown once, store it now): ${created.token}`);
      } finally {
        db.close();
      }
    });
}
