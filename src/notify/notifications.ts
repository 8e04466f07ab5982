import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { formatIsoUtc } from '../shared/iso-time.js';
import { countByStatus } from '../store/outbox.js';
import type { RetryPolicy } from './backoff.js';
import { OutboxDeliverer } from './deliverer.js';
import { displayUrl } from './display-url.js';
import { LifecycleScheduler } from './scheduler.js';

export interface NotificationSettings {
  readonly webhooks: readonly string[];
  /** Required when there are webhooks (the config guarantees it). */
  readonly secret: string | null;
  readonly maxAgeHours: number;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly tickMs: number;
}

export interface NotificationDeps {
  readonly clock: () => number;
  readonly logger: Logger;
  /** Run before a delivery pass sends anything: the daemon makes its licence snapshot current, so
   * a mobile app woken by `license.renewed` finds its REGISTER accepted. */
  readonly beforeSend?: () => void;
}

export interface Notifications {
  readonly scheduler: LifecycleScheduler;
  /** Absent when no webhook is configured: events then wait in the outbox. */
  readonly deliverer: OutboxDeliverer | null;
  close(): Promise<void>;
}

/**
 * Starts the lifecycle scheduler and the outbox deliverer on one timer (`tickMs`): each tick first
 * turns time into events, then sends what is due, so a time-driven event leaves in the tick that
 * wrote it. The first tick runs at once, announcing what happened while the daemon was down.
 */
export function startNotifications(db: Db, settings: NotificationSettings, deps: NotificationDeps): Notifications {
  const log = deps.logger;
  const scheduler = new LifecycleScheduler(db, {
    onEvent: (e) =>
      log.info(
        {
          eventId: e.eventId,
          type: e.type,
          group: e.rootGroup,
          source: e.source,
          operator: e.operator,
          occurredAt: formatIsoUtc(e.occurredAt),
        },
        'lifecycle event',
      ),
  });
  let deliverer: OutboxDeliverer | null = null;
  if (settings.webhooks.length > 0) {
    if (settings.secret === null) throw new Error('notify: webhooks need a secret');
    deliverer = new OutboxDeliverer(db, {
      webhooks: settings.webhooks,
      secret: settings.secret,
      retry: settings.retry,
      maxAgeMs: settings.maxAgeHours * 3_600_000,
      timeoutMs: settings.timeoutMs,
      clock: deps.clock,
      logger: log,
      ...(deps.beforeSend ? { beforeSend: deps.beforeSend } : {}),
    });
  }
  log.info(
    { webhooks: settings.webhooks.map(displayUrl), outbox: countByStatus(db), tickMs: settings.tickMs },
    settings.webhooks.length > 0 ? 'notifications started' : 'notifications started without webhooks: events stay pending in the outbox',
  );

  const tick = (): void => {
    try {
      scheduler.tick(deps.clock());
    } catch (err) {
      log.error({ err }, 'lifecycle tick failed; the next tick tries again');
    }
    deliverer?.pass().catch((err: unknown) => log.error({ err }, 'webhook delivery pass failed; the next tick tries again'));
  };
  tick();
  const timer = setInterval(tick, settings.tickMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    scheduler,
    deliverer,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await deliverer?.close();
      })();
      return closing;
    },
  };
}
