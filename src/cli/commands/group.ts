import { addGroup, describeGroup, listGroups, removeGroup, rootGroupName } from '../../store/groups.js';
import { BadInputError } from '../errors.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable } from '../output.js';
import { withSession } from '../session.js';
import { groupDetailsView, groupView } from '../views.js';
import type { Program } from '../root-command.js';

const JSON_HELP = 'print JSON instead of text';

export function registerGroupCommands(program: Program): void {
  const group = program
    .command('group')
    .description('groups form trees; a root group (no parent) is one project and holds the Licences section');

  group
    .command('add')
    .description('add a group')
    .argument('<name>', 'name of the new group, unique on the server')
    .option('--parent <group>', 'parent group; without it the new group is a root group with restrictions off')
    .addHelpText('after', "\nExamples:\n  sipwarden group add Sunrise\n  sipwarden group add 'Block A' --parent Sunrise")
    .action((name, opts, cmd) =>
      withSession(cmd, (s) => {
        const root = opts.parent === undefined ? name : (rootGroupName(s.db, opts.parent) ?? null);
        s.authorize({ rootGroup: root, target: name, request: { name, parent: opts.parent ?? null } });
        const g = unwrap(addGroup(s.db, { name, parent: opts.parent ?? null }, s.change()), { name: 'NAME', parent: '--parent' });
        printLine(
          g.parentId === null
            ? `Added root group '${g.name}' (restrictions off; set them with 'sipwarden licenses set ${g.name}').`
            : `Added group '${g.name}' under '${opts.parent ?? ''}'.`,
        );
      }),
    );

  group
    .command('list')
    .description('list every group, tree by tree')
    .option('--json', JSON_HELP)
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize();
        const groups = listGroups(s.db);
        if (opts.json) return printJson(groups.map(groupView));
        printTable(
          ['GROUP', 'PARENT', 'ROOT', 'SUBGROUPS', 'USERS'],
          groups.map((g) => [g.name, g.parent, g.root, g.subgroups, g.users]),
        );
      }),
    );

  group
    .command('show')
    .description('show one group: its path from the root, subgroups and users')
    .argument('<group>', 'group name')
    .option('--json', JSON_HELP)
    .action((name, opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootGroupName(s.db, name) ?? null, target: name });
        const g = describeGroup(s.db, name);
        if (!g) throw new BadInputError(`GROUP: group '${name}' does not exist; see 'sipwarden group list'`);
        if (opts.json) return printJson(groupDetailsView(g));
        printLine(`Group:      ${g.name}${g.parentId === null ? ' (root group)' : ''}`);
        printLine(`Path:       ${g.path.join(' / ')}`);
        printLine(`Subgroups:  ${g.children.length === 0 ? '-' : g.children.join(', ')}`);
        printLine(`Users:      ${g.users}`);
      }),
    );

  group
    .command('remove')
    .description('remove a group that has no subgroups and no users')
    .argument('<group>', 'group name')
    .addHelpText('after', '\nA group that still has subgroups or users is refused (exit 2): remove or empty them first.')
    .action((name, _opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootGroupName(s.db, name) ?? null, target: name });
        unwrap(removeGroup(s.db, name, s.change()), { group: 'GROUP' });
        printLine(`Removed group '${name}'.`);
      }),
    );
}
