import { findInstalls, listInstalls, releaseInstall, type AppInstall } from '../../store/app-installs.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable, timeOrDash } from '../output.js';
import { withSession } from '../session.js';
import { installView } from '../views.js';
import type { Program } from '../root-command.js';

/** When it took its licence; or when and why it gave it back; or `no`. */
function licenseCell(a: AppInstall): string {
  if (a.licensed) return timeOrDash(a.licensedAt);
  if (a.releasedAt === null) return 'no';
  return `no, released ${timeOrDash(a.releasedAt)} ${a.releasedBy === 'idle' ? '(idle)' : `by ${a.releasedBy ?? '?'}`}`;
}

/** Whether the renewal push can reach it: its RFC 8599 provider when a pn-prid is held (never the token itself). */
function pushCell(a: AppInstall): string {
  return a.pnPrid === null ? 'no' : (a.pnProvider ?? 'yes');
}

export function registerAppCommands(program: Program): void {
  const app = program
    .command('app')
    .description('mobile-app installs: each takes a license on its first successful REGISTER');

  app
    .command('list')
    .description('list app installs: licensed ones first, in the order they took their license; whether push parameters are held')
    .option('--group <group>', 'only installs of users in this group and its subgroups')
    .option('--json', 'print JSON instead of text')
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: s.rootOf(opts.group) });
        const installs = unwrap(listInstalls(s.db, opts.group === undefined ? {} : { group: opts.group }), { group: '--group' });
        if (opts.json) return printJson(installs.map(installView));
        printTable(
          ['INSTANCE', 'NUMBER', 'USER', 'ROOT', 'LICENSED', 'PUSH', 'LAST SEEN'],
          installs.map((a) => [a.instanceId, a.number, a.user, a.root, licenseCell(a), pushCell(a), timeOrDash(a.lastSeen)]),
        );
      }),
    );

  app
    .command('release')
    .description("give back an install's licenses; its next REGISTER claims one again if free")
    .argument('<instance_id>', "the install's id as shown by 'app list' (+sip.instance, pn-prid or Contact URI)")
    .action((instanceId, _opts, cmd) =>
      withSession(cmd, (s) => {
        const root = findInstalls(s.db, instanceId)[0]?.root ?? null;
        s.authorize({ rootGroup: root, target: instanceId });
        const released = unwrap(releaseInstall(s.db, instanceId, s.change()), { instance: 'INSTANCE_ID' });
        printLine(
          released.length === 0
            ? `App install '${instanceId}' held no license; nothing to release.`
            : `Released the license(s) of app install '${instanceId}' on ${released.map((r) => r.number).join(', ')}.`,
        );
      }),
    );
}
