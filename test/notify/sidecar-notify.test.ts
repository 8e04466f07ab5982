import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { startSidecar, type Sidecar } from '../../src/main.js';
import { openDatabase } from '../../src/store/database.js';
import { addGroup } from '../../src/store/groups.js';
import { setLicenses } from '../../src/store/license-settings.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { DAY, ok, T0 } from '../store/temp-db.js';
import { captureLogger } from './capture-logger.js';
import { startReceiver, type AnsweredRequest, type WebhookReceiver } from './webhook-receiver.js';

/*
 * The wiring in the composition root: startSidecar with an injected clock starts the scheduler and
 * the deliverer, so moving the clock to the reminder time and past the end of validity makes the
 * receiver get license.expiring and license.expired; close() stops both.
 */

const SECRET = 'sidecar-notify-secret-0123456789';
const typeOf = (r: AnsweredRequest): string => (JSON.parse(r.body) as { type: string }).type;

let sidecar: Sidecar | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await sidecar?.close();
  await receiver?.close();
  sidecar = undefined;
  receiver = undefined;
});

describe('startSidecar with notifications', () => {
  it('turns injected time into delivered events, and stops on close', async () => {
    const dir = makeTempDir('sidecar-notify');
    const database = join(dir, 'sipwarden.db');
    const seed = openDatabase(database, { create: true });
    ok(addGroup(seed, { name: 'Sunrise' }, { now: T0, operator: 'tester' }));
    ok(
      setLicenses(
        seed,
        'Sunrise',
        { restrictions: true, validity: true, validFrom: T0, validUntil: T0 + 30 * DAY, remindDays: 7, remindRepeat: 'once' },
        { now: T0, operator: 'tester' },
      ),
    );
    seed.close();

    receiver = await startReceiver();
    const config = parseConfig(
      {
        database,
        sip: { listen: { udp: { host: '127.0.0.1', port: 0 } }, upstream: { host: '127.0.0.1', port: 9 } },
        notify: { webhooks: [{ url: receiver.url }], tickMs: 20 },
        admin: { listen: { host: '127.0.0.1', port: 0 } },
      },
      { SIPWARDEN_WEBHOOK_SECRET: SECRET },
    );
    let now = T0 + DAY;
    const log = captureLogger();
    sidecar = await startSidecar(config, { clock: () => now, logger: log.logger });

    now = T0 + 23 * DAY;
    const expiring = await receiver.waitFor((r) => typeOf(r) === 'license.expiring', 'license.expiring');
    expect(JSON.parse(expiring.body)).toMatchObject({ occurredAt: '2026-01-24T00:00:00Z', createdAt: '2026-01-24T00:00:00Z' });
    now = T0 + 31 * DAY;
    const expired = await receiver.waitFor((r) => typeOf(r) === 'license.expired', 'license.expired');
    expect(JSON.parse(expired.body)).toMatchObject({ occurredAt: '2026-01-31T00:00:00Z', window: { previousState: 'active', state: 'expired' } });
    expect(log.lines.filter((l) => l.msg === 'lifecycle event').map((l) => l.type)).toEqual([
      'license.expiring',
      'license.expired',
    ]);

    await sidecar.close();
    const count = receiver.requests.length;
    const db = openDatabase(database);
    try {
      ok(setLicenses(db, 'Sunrise', { validUntil: T0 + 90 * DAY }, { now, operator: 'tester' }));
    } finally {
      db.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(count);
    expect(log.text()).not.toContain(SECRET);
  });
});
