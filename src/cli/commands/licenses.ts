import { Option } from '@commander-js/extra-typings';
import { ENFORCEMENT_MODES, type EnforcementMode } from '../../policy/enforcement-mode.js';
import { REMIND_REPEATS } from '../../policy/remind-repeat.js';
import { formatIsoUtc } from '../../shared/iso-time.js';
import { licenseReport, type LicenseReport, type LimitReport } from '../../store/license-report.js';
import { getLicenses, resolveRootGroup, setLicenses, type LicenseChange, type LicenseSettings } from '../../store/license-settings.js';
import { rootGroupName } from '../../store/groups.js';
import { BadInputError } from '../errors.js';
import { unwrap } from '../failure.js';
import { formatDuration, printJson, printLine } from '../output.js';
import { noneToNull, parseLimit, parseLimitOrNone, parseOnOff, parseTime } from '../parse-values.js';
import { withSession } from '../session.js';
import type { Program } from '../root-command.js';

const LABELS = {
  group: 'ROOT_GROUP',
  virtualNumbers: '--numbers',
  mobileApps: '--apps',
  validFrom: '--valid-from',
  validUntil: '--valid-until',
  remindDays: '--remind-days',
} as const;

const SET_EXAMPLES = `
Examples:
  sipwarden licenses set Sunrise --restrictions on --numbers 200 --apps 150
  sipwarden licenses set Sunrise --valid-from 2026-01-01 --valid-until 2027-01-01T00:00:00Z --remind-days 30
  sipwarden licenses set Sunrise --valid-until 2027-06-30T23:59:59+02:00   # extend the window
  sipwarden licenses set Sunrise --no-validity                              # no window any more
  sipwarden licenses set Sunrise --remind-days 30 --remind-repeat weekly    # remind weekly from 30 days before
  sipwarden licenses set Sunrise --enforcement shadow                       # roll out: log, count, forward
  sipwarden licenses set Sunrise --enforcement default                      # back to the sidecar's policy.mode

Values are merged with the current ones and checked together: --apps may not exceed --numbers,
--valid-until must be after --valid-from, and no user's personal license may exceed the new limit.
Lowering a limit below what is in use deletes nothing: the newest numbers or installs beyond it
stop working until the limit is raised or others are removed ("over" in 'licenses show').
TIME is ISO 8601 with Z or an offset; a date alone means 00:00 UTC.

Lifecycle events go to the push gateway (see 'sipwarden events list'): reopening a closed window
(extending it, or --restrictions off for a blocked group) queues license.renewed with every app
install of the group; closing an open one queues license.expired; changing an enforced setting
queues license.limits-changed. license.expiring is sent --remind-days before --valid-until, then
again as --remind-repeat says (once, daily, weekly, monthly).`;

function limitLine(l: LimitReport): string {
  return `${l.used} used / ${l.limit} limit / ${l.remaining} remaining${l.over > 0 ? ` / ${l.over} OVER` : ''}`;
}

function windowLine(r: LicenseReport, now: number): string {
  const v = r.validity;
  switch (v.state) {
    case 'unrestricted':
      return 'unrestricted (restrictions off: nothing is enforced)';
    case 'not-yet-valid':
      return `not yet valid: opens at ${v.validFrom ?? '?'} (in ${formatDuration(Date.parse(v.validFrom ?? '') - now)})`;
    case 'expired':
      return `EXPIRED at ${v.validUntil ?? '?'} (${formatDuration(now - Date.parse(v.validUntil ?? ''))} ago)`;
    case 'active':
      if (!v.enabled || v.validUntil === null) return 'active, no end';
      return `active until ${v.validUntil} (${formatDuration(Date.parse(v.validUntil) - now)} left)`;
  }
}

function nextLine(r: LicenseReport, now: number): string {
  const next = r.nextTransition;
  if (!next) return 'none scheduled';
  const verb = next.event === 'license.expired' ? 'expires' : 'opens';
  return `${verb} at ${next.at} (in ${formatDuration(Date.parse(next.at) - now)}): ${next.event}`;
}

function reminderLine(r: LicenseReport, remindDays: number | null): string {
  const base = remindDays === null ? 'none' : `${remindDays} days before the end`;
  const rem = r.reminder;
  if (!rem) return base;
  const parts = [remindDays === null ? base : `${base}, repeat ${rem.repeat}`];
  parts.push(`last sent ${rem.lastSentAt ?? 'never'}`);
  if (rem.nextAt !== null) parts.push(`next ${rem.nextAt}`);
  return parts.join('; ');
}

function printReport(r: LicenseReport, remindDays: number | null, now: number): void {
  printLine(`Licences of root group '${r.group}'`);
  printLine(`  Restrictions:     ${r.restrictions ? 'on' : 'off'}`);
  printLine(`  Virtual numbers:  ${limitLine(r.virtualNumbers)}`);
  printLine(`  Mobile apps:      ${limitLine(r.mobileApps)}`);
  printLine(
    `  Validity:         ${r.validity.enabled ? 'on' : 'off'}, from ${r.validity.validFrom ?? '(open)'} until ${r.validity.validUntil ?? '(open)'}`,
  );
  printLine(`  Window:           ${windowLine(r, now)}`);
  printLine(`  Next transition:  ${nextLine(r, now)}`);
  printLine(`  Reminder:         ${reminderLine(r, remindDays)}`);
  printLine(`  Enforcement:      ${enforcementLine(r.enforcement)}`);
}

/** Which mode applies to the project's refusals (issue 11, item 4). */
export function enforcementLine(mode: EnforcementMode | null): string {
  if (mode === 'shadow') return 'shadow (project setting): refusals are logged and counted as "would refuse", requests forwarded';
  if (mode === 'enforce') return "enforce (project setting, whatever the sidecar's policy.mode): refusals answered 403";
  return "the sidecar's policy.mode (enforce unless it is configured shadow)";
}

function describeChange(before: LicenseSettings, after: LicenseSettings): string[] {
  const show = (k: keyof LicenseSettings, v: LicenseSettings[keyof LicenseSettings]): string =>
    v === null ? 'none' : (k === 'validFrom' || k === 'validUntil') && typeof v === 'number' ? formatIsoUtc(v) : String(v);
  return (Object.keys(after) as (keyof LicenseSettings)[])
    .filter((k) => before[k] !== after[k])
    .map((k) => `  ${k}: ${show(k, before[k])} -> ${show(k, after[k])}`);
}

function defineLicenses(program: Program) {
  return program.command('licenses').description('the Licences section of a root group');
}

/** `licenses set` and its options: the types of `changeFrom`'s parameters are inferred from them. */
function defineSet(licenses: ReturnType<typeof defineLicenses>) {
  return licenses
    .command('set')
    .description('change the Licences section of a root group; only the given fields change')
    .argument('<root_group>', 'a root group (a project)')
    .addOption(
      new Option('--restrictions <on|off>', '"Enable restrictions": off = unlimited, nothing enforced').argParser(parseOnOff),
    )
    .option('--numbers <n>', 'how many virtual numbers the whole tree may have', parseLimit)
    .option('--apps <n>', 'how many mobile-app installs the whole tree may use (at most --numbers)', parseLimit)
    .option('--valid-from <time>', 'start of the validity window (turns validity on)', parseTime)
    .option('--valid-until <time>', 'end of the validity window, exclusive (turns validity on)', parseTime)
    .option('--no-validity', 'turn the validity window off (the dates are kept but not enforced)')
    .option('--remind-days <n|none>', 'warn this many days before --valid-until; none = no reminder', parseLimitOrNone)
    .addOption(
      new Option('--remind-repeat <repeat>', 'how often the reminder repeats until the end of validity (default once)').choices(
        REMIND_REPEATS,
      ),
    )
    .addOption(
      new Option(
        '--enforcement <mode>',
        "shadow: refusals logged and counted as would-refuse, requests forwarded; enforce: refused; default: the sidecar's policy.mode",
      ).choices([...ENFORCEMENT_MODES, 'default']),
    );
}

type SetCommand = ReturnType<typeof defineSet>;

function changeFrom(opts: ReturnType<SetCommand['opts']>, cmd: SetCommand): LicenseChange {
  const noValidity = cmd.getOptionValueSource('validity') === 'cli';
  if (noValidity && (opts.validFrom !== undefined || opts.validUntil !== undefined)) {
    throw new BadInputError('--no-validity: cannot be combined with --valid-from or --valid-until; expected one or the other');
  }
  const change: { -readonly [K in keyof LicenseChange]: LicenseChange[K] } = {};
  if (opts.restrictions !== undefined) change.restrictions = opts.restrictions;
  if (opts.numbers !== undefined) change.virtualNumbers = opts.numbers;
  if (opts.apps !== undefined) change.mobileApps = opts.apps;
  if (opts.validFrom !== undefined) change.validFrom = opts.validFrom;
  if (opts.validUntil !== undefined) change.validUntil = opts.validUntil;
  // Setting a bound turns the window on; --no-validity turns it off and keeps the bounds.
  if (opts.validFrom !== undefined || opts.validUntil !== undefined) change.validity = true;
  if (noValidity) change.validity = false;
  if (opts.remindDays !== undefined) change.remindDays = noneToNull(opts.remindDays);
  if (opts.remindRepeat !== undefined) change.remindRepeat = opts.remindRepeat;
  if (opts.enforcement !== undefined) change.enforcement = opts.enforcement === 'default' ? null : opts.enforcement;
  if (Object.keys(change).length === 0) {
    throw new BadInputError(
      'nothing to change; expected at least one of --restrictions, --numbers, --apps, --valid-from, --valid-until, --no-validity, --remind-days, --remind-repeat, --enforcement',
    );
  }
  return change;
}

export function registerLicensesCommands(program: Program): void {
  const licenses = defineLicenses(program);

  licenses
    .command('show')
    .description('show used / limit / remaining / over for numbers and apps, and the validity window')
    .argument('<root_group>', 'a root group (a project)')
    .option(
      '--json',
      'print the report as JSON: {group, restrictions, virtualNumbers, mobileApps, validity, nextTransition?, reminder?}',
    )
    .action((name, opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ rootGroup: rootGroupName(s.db, name) ?? name, target: name });
        const group = unwrap(resolveRootGroup(s.db, 'group', name), LABELS);
        const now = Date.now();
        const report = licenseReport(s.db, name, now);
        if (opts.json) return printJson(report);
        printReport(report, getLicenses(s.db, group.id)?.remindDays ?? null, now);
      }),
    );

  defineSet(licenses)
    .addHelpText('after', SET_EXAMPLES)
    .action((name, opts, cmd) =>
      withSession(cmd, (s) => {
        const change = changeFrom(opts, cmd);
        s.authorize({ rootGroup: rootGroupName(s.db, name) ?? name,
          target: name,
          request: {
            ...change,
            ...(change.validFrom === undefined ? {} : { validFrom: formatIsoUtc(change.validFrom ?? 0) }),
            ...(change.validUntil === undefined ? {} : { validUntil: formatIsoUtc(change.validUntil ?? 0) }),
          },
        });
        const update = unwrap(setLicenses(s.db, name, change, s.change()), LABELS);
        const lines = describeChange(update.before, update.after);
        if (update.remindRepeat.before !== update.remindRepeat.after) {
          lines.push(`  remindRepeat: ${update.remindRepeat.before} -> ${update.remindRepeat.after}`);
        }
        if (update.enforcement.before !== update.enforcement.after) {
          lines.push(`  enforcement: ${update.enforcement.before ?? 'default'} -> ${update.enforcement.after ?? 'default'}`);
        }
        printLine(lines.length === 0 ? `Licences of '${name}' unchanged.` : `Licences of '${name}' updated:`);
        for (const l of lines) printLine(l);
        for (const e of update.events) printLine(`Queued ${e.type} for the push gateway (event ${e.id}, id ${e.eventId}).`);
      }),
    );
}
