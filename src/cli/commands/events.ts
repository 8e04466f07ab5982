import { Option } from '@commander-js/extra-typings';
import { displayUrl } from '../../notify/display-url.js';
import { rootGroupName } from '../../store/groups.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../../shared/iso-time.js';
import { deliveriesOf, EVENT_STATUSES, listEvents, retryEvent, type OutboxEvent } from '../../store/outbox.js';
import type { Db } from '../../store/database.js';
import { unwrap } from '../failure.js';
import { printJson, printLine, printTable, timeOrDash } from '../output.js';
import { parseLimit } from '../parse-values.js';
import { withSession } from '../session.js';
import type { Program } from '../root-command.js';

const LIST_HELP = `
Statuses: pending (queued or retrying), delivered (every webhook answered 2xx; never sent again),
failed (a webhook answered 4xx other than 408/429), dead (not delivered within notify.maxAgeHours).
The daemon ('sipwarden serve') delivers; this command only reads the outbox.

Examples:
  sipwarden events list --status failed
  sipwarden events list --group Sunrise --json`;

/** The `--json` shape of one event: ISO times, webhook URLs without credentials or query, the payload parsed. */
function eventView(db: Db, e: OutboxEvent) {
  return {
    id: e.id,
    eventId: e.eventId,
    type: e.type,
    group: e.rootGroup,
    source: e.source,
    operator: e.operator,
    status: e.status,
    attempts: e.attempts,
    occurredAt: formatIsoUtc(e.occurredAt),
    createdAt: formatIsoUtc(e.createdAt),
    nextAttemptAt: e.status === 'pending' ? formatIsoUtc(e.nextAttemptAt) : null,
    lastAttemptAt: formatIsoUtcOrNull(e.lastAttemptAt),
    lastStatus: e.lastStatus,
    lastError: e.lastError,
    finishedAt: formatIsoUtcOrNull(e.finishedAt),
    deliveries: deliveriesOf(db, e.id).map((d) => ({
      target: displayUrl(d.target),
      status: d.status,
      attempts: d.attempts,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      deliveredAt: formatIsoUtcOrNull(d.deliveredAt),
    })),
    payload: JSON.parse(e.payload) as unknown,
  };
}

function lastOutcome(e: OutboxEvent): string {
  if (e.lastStatus !== null) return `HTTP ${e.lastStatus}`;
  return e.lastError ?? '';
}

export function registerEventsCommands(program: Program): void {
  const events = program
    .command('events')
    .description('lifecycle events (expired, activated, renewed, expiring, limits-changed) and their push-gateway delivery');

  events
    .command('list')
    .description('list outbox events, oldest first, with their delivery status')
    .addOption(new Option('--status <status>', 'only events with this status').choices(EVENT_STATUSES))
    .option('--group <group>', "only events of this group's tree (a deleted group's name still matches)")
    .option('--limit <n>', 'only the newest n events', parseLimit, 100)
    .option('--json', 'print JSON instead of text (with each event\'s payload and per-webhook delivery)')
    .addHelpText('after', LIST_HELP)
    .action((opts, cmd) =>
      withSession(cmd, (s) => {
        const root = opts.group === undefined ? undefined : (rootGroupName(s.db, opts.group) ?? opts.group);
        s.authorize({ rootGroup: root ?? null, target: null });
        const list = listEvents(s.db, {
          ...(opts.status === undefined ? {} : { status: opts.status }),
          ...(root === undefined ? {} : { rootGroup: root }),
          limit: opts.limit,
        });
        if (opts.json) return printJson(list.map((e) => eventView(s.db, e)));
        printTable(
          ['ID', 'TYPE', 'GROUP', 'STATUS', 'ATTEMPTS', 'CREATED', 'NEXT ATTEMPT', 'LAST'],
          list.map((e) => [
            e.id,
            e.type,
            e.rootGroup,
            e.status,
            e.attempts,
            formatIsoUtc(e.createdAt),
            e.status === 'pending' ? timeOrDash(e.nextAttemptAt) : null,
            lastOutcome(e),
          ]),
        );
      }),
    );

  events
    .command('retry')
    .description('deliver a failed or dead event again (fresh backoff and maximum age), or a pending one now')
    .argument('<id>', "the event's number (ID in 'events list') or its event id (UUID)")
    .action((ref, _opts, cmd) =>
      withSession(cmd, (s) => {
        s.authorize({ target: ref });
        const event = unwrap(retryEvent(s.db, ref, s.change()), { id: 'ID' });
        printLine(`Event ${event.id} (${event.type}, ${event.rootGroup}) is pending again; the daemon delivers it within its next tick.`);
      }),
    );
}
