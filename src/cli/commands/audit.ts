import { listAudit } from '../../store/audit-log.js';
import { rootGroupName } from '../../store/groups.js';
import { formatIsoUtc } from '../../shared/iso-time.js';
import { printJson, printTable } from '../output.js';
import { parseTime } from '../parse-values.js';
import { withSession } from '../session.js';
import { auditView } from '../views.js';
import type { Program } from '../root-command.js';

function short(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

export function registerAuditCommand(program: Program): void {
  program
    .command('audit')
    .description('the audit log: every change (outcome ok), every missing permission (denied) and every limit refusal (refused)')
    .option('--group <group>', "only entries of this group's tree (a deleted group's name still matches)")
    .option('--since <time>', 'only entries at or after this time (ISO 8601, e.g. 2026-01-01)', parseTime)
    .option('--json', 'print JSON instead of text')
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        const root = opts.group === undefined ? undefined : (rootGroupName(s.db, opts.group) ?? opts.group);
        s.authorize({ rootGroup: root ?? null });
        const entries = listAudit(s.db, {
          ...(root === undefined ? {} : { rootGroup: root }),
          ...(opts.since === undefined ? {} : { since: opts.since }),
        });
        if (opts.json) return printJson(entries.map(auditView));
        printTable(
          ['TIME', 'OPERATOR', 'ACTION', 'OUTCOME', 'GROUP', 'TARGET', 'OLD -> NEW'],
          entries.map((e) => [
            formatIsoUtc(e.at),
            e.operator,
            e.action,
            e.outcome,
            e.rootGroup,
            e.target,
            e.oldValue === null && e.newValue === null ? '' : `${short(e.oldValue) || '-'} -> ${short(e.newValue) || '-'}`,
          ]),
        );
      }),
    );
}
