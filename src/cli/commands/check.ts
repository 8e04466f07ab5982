import { Option } from '@commander-js/extra-typings';
import { DEFAULT_ENFORCEMENT_MODE, ENFORCEMENT_MODES, type EnforcementMode } from '../../policy/enforcement-mode.js';
import { modeOfProject, modeOfRefusal } from '../../policy/refusal-mode.js';
import { normalizeNumber } from '../../policy/normalize-number.js';
import { findNumber } from '../../store/numbers.js';
import type { PolicyOptions } from '../../policy/request-facts.js';
import { configOption, loadCliPolicy } from '../config-file.js';
import { BadInputError } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { parseTime } from '../parse-values.js';
import { withSession } from '../session.js';
import type { Program } from '../root-command.js';

const EXAMPLES = `
Examples:
  sipwarden check 1001                                   # may 1001 REGISTER now?
  sipwarden check 1001 --app --instance urn:uuid:0b1c…   # the mobile app on 1001
  sipwarden check 1001 --method invite --to 2002         # may 1001 call 2002?
  sipwarden check 1001 --at 2027-01-01                   # ... on that date?

  sipwarden check 1001 --config /etc/sipwarden.json      # with the sidecar's policy options

Prints e.g.
  REFUSED (403, license-expired): group 'Sunrise' licence expired at 2026-01-01T00:00:00Z
  Mode: enforce, the sidecar's policy.mode (--mode)
  policy: unknownNumbers=allow registerOutsideWindow=reject checkCalleeWindow=true (built-in defaults)
or, for a project in shadow mode (licenses set --enforcement shadow),
  WOULD REFUSE (shadow mode, forwarded; 403, license-expired): ...
and exits 0 whatever the decision (the command worked); --json gives
{decision, reason, basis, sipStatus, text, warning, claimInstall, at, details, enforcement, policy}.
The policy options and policy.mode are those of the configuration file 'serve' reads: --config
FILE, else $SIPWARDEN_CONFIG, else the built-in defaults, as for 'serve'; --mode overrides
policy.mode. Nothing is written, no license is taken.`;

export function registerCheckCommand(program: Program): void {
  program
    .command('check')
    .description('explain what the policy decides for a number now (or --at a time), from the stored licences')
    .argument('<number>', 'the calling or registering number (SIP user part)')
    .addOption(new Option('--method <method>', 'the SIP request').choices(['register', 'invite']).default('register'))
    .option('--app', 'the request comes from the mobile application')
    .option('--instance <id>', "the app install's id (+sip.instance, pn-prid or Contact URI); implies --app")
    .option('--to <number>', 'the called number (Request-URI user part), with --method invite')
    .option('--at <time>', 'decide at this time instead of now (ISO 8601)', parseTime)
    .addOption(configOption())
    .addOption(
      new Option('--mode <mode>', "instead of the config's policy.mode, for projects without their own (licenses set --enforcement)").choices(
        ENFORCEMENT_MODES,
      ),
    )
    .option('--json', 'print the decision as JSON')
    .addHelpText('after', EXAMPLES)
    .action((number, opts, cmd) =>
      withSession(cmd, async (s) => {
        if (opts.to !== undefined && opts.method !== 'invite') {
          throw new BadInputError('--to: only an INVITE has a called number; expected --method invite');
        }
        s.authorize({ rootGroup: findNumber(s.db, normalizeNumber(number))?.root ?? null, target: number });
        // The policy core, the snapshot loader and the config schema are loaded only for this command.
        const [{ loadSnapshotFor }, { evaluateRegister }, { evaluateInvite }, { explainDecision, checkLines }, { DEFAULT_POLICY_OPTIONS }] =
          await Promise.all([
            import('../../store/snapshot-loader.js'),
            import('../../policy/evaluate-register.js'),
            import('../../policy/evaluate-invite.js'),
            import('../explain-decision.js'),
            import('../../policy/request-facts.js'),
          ]);
        // Exactly the options the policy reads, taken from the sidecar's configuration; without a
        // file, the defaults (zod, which validates a file, is not loaded then).
        const configured = opts.config === undefined ? { ...DEFAULT_POLICY_OPTIONS, mode: DEFAULT_ENFORCEMENT_MODE } : await loadCliPolicy(opts.config);
        const policy = Object.fromEntries(
          Object.keys(DEFAULT_POLICY_OPTIONS).map((k) => [k, configured[k as keyof PolicyOptions]]),
        ) as unknown as PolicyOptions;
        const sidecarMode: EnforcementMode = opts.mode ?? configured.mode;
        const isMobileApp = opts.app === true || opts.instance !== undefined;
        const installId = opts.instance ?? null;
        const now = opts.at ?? Date.now();
        // Numbers as the SIP server matches them (LOBBY is lobby), as the sidecar reads them.
        const caller = normalizeNumber(number);
        const callee = opts.to === undefined ? null : normalizeNumber(opts.to);
        // Only the trees of the numbers asked about: fast on a database of millions of numbers.
        const snapshot = loadSnapshotFor(s.db, callee === null ? [caller] : [caller, callee]);
        const decision =
          opts.method === 'invite'
            ? evaluateInvite({ identity: caller, callee, isMobileApp, installId }, snapshot, now, policy)
            : evaluateRegister({ identity: caller, isDeregister: false, isMobileApp, installId }, snapshot, now, policy);
        const enforcement =
          decision.kind === 'deny'
            ? modeOfRefusal(decision, snapshot, sidecarMode)
            : modeOfProject(snapshot.group(snapshot.number(caller)?.rootId ?? -1)?.enforcement, sidecarMode);
        const report = explainDecision(decision, now, isMobileApp ? (installId ?? caller) : null, enforcement);
        const source = opts.config ?? null;
        if (opts.json) return printJson({ ...report, policy: { ...policy, mode: sidecarMode, config: source } });
        for (const line of checkLines(report)) printLine(line);
        const used = Object.entries(policy).map(([k, v]) => `${k}=${String(v)}`).join(' ');
        printLine(`policy: ${used} (${source === null ? "built-in defaults; --config FILE or SIPWARDEN_CONFIG for the sidecar's" : `from ${source}`})`);
      }),
    );
}
