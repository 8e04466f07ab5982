import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { createSipwarden, type Sipwarden } from '../../../src/create-sipwarden.js';
import { DatabaseMissingError } from '../../../src/store/database.js';
import { DAY, T0 } from '../../store/temp-db.js';
import { captureLogger } from '../../notify/capture-logger.js';
import { InProcessAgent } from './drachtio-harness.js';
import { register, World } from './world.js';

/**
 * The public entry (`import { createSipwarden } from 'sipwarden'`) on a real store: its middleware
 * decides with drachtio-srf's own Request/Response objects and logs through the application's
 * logger, and its options are checked as the config file is.
 */
describe('createSipwarden', () => {
  let world: World;
  let sw: Sipwarden | undefined;

  beforeEach(async () => {
    world = await World.open();
  });
  afterEach(async () => {
    await sw?.close();
    sw = undefined;
    await world.close();
  });

  async function deliver(middleware: Sipwarden['middleware'], raw: string) {
    let nextCalls = 0;
    const agent = new InProcessAgent((req, res) => middleware(req, res, () => nextCalls++));
    agent.deliver(raw);
    for (let waited = 0; nextCalls === 0 && agent.sent.length === 0 && waited < 5000; waited += 5) await sleep(5);
    return { nextCalls, sent: agent.sent };
  }

  it('refuses through its middleware and logs the decision through the application logger', async () => {
    const app = captureLogger();
    sw = await createSipwarden({ database: world.t.path, logger: app.logger, clock: () => T0 + 31 * DAY, warnAgent: 'sbc.test' });
    const { nextCalls, sent } = await deliver(sw.middleware, register());
    expect(nextCalls).toBe(0);
    expect(sent[0]?.message.status).toBe(403);
    expect(sent[0]?.message.get('Warning')).toBe('399 sbc.test "License has expired"');
    const refused = app.lines.filter((l) => l.msg === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ app: 'sipwarden', module: 'sipwarden', method: 'REGISTER', number: '1001', reason: 'license-expired', level: 30 });
  });

  it('lets a licensed REGISTER on with next(), logged at debug', async () => {
    const app = captureLogger();
    sw = await createSipwarden({ database: world.t.path, logger: app.logger, clock: () => T0 + DAY });
    const { nextCalls, sent } = await deliver(sw.middleware, register());
    expect(nextCalls).toBe(1);
    expect(sent).toEqual([]);
    expect(app.lines.filter((l) => l.module === 'sipwarden' && l.level === 20 && l.number === '1001')).toHaveLength(1);
  });

  it('applies the policy options as the config file does', async () => {
    const app = captureLogger();
    sw = await createSipwarden({ database: world.t.path, logger: app.logger, clock: () => T0 + DAY, policy: { unknownNumbers: 'reject' } });
    const { sent } = await deliver(sw.middleware, register({ user: '9999' }));
    expect(sent[0]?.message.get('X-Sipwarden-Reason')).toBe('unknown-number');
  });

  it('applies policy.mode as the config file does: shadow lets a refused REGISTER on, logged as would refuse', async () => {
    const app = captureLogger();
    sw = await createSipwarden({ database: world.t.path, logger: app.logger, clock: () => T0 + 31 * DAY, policy: { mode: 'shadow' } });
    const { nextCalls, sent } = await deliver(sw.middleware, register());
    expect(nextCalls).toBe(1);
    expect(sent).toEqual([]);
    expect(app.lines.filter((l) => l.msg === 'would refuse')).toMatchObject([{ module: 'sipwarden', number: '1001', reason: 'license-expired' }]);
  });

  it('rejects bad options with a ConfigError naming each problem, before opening anything', async () => {
    const app = captureLogger();
    const attempt = createSipwarden({
      database: world.t.path,
      logger: app.logger,
      policy: { unknownNumbers: 'maybe' as 'allow', claimTimeoutMs: 0 },
    });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/policy\.unknownNumbers[\s\S]*policy\.claimTimeoutMs/);
    expect(app.lines).toEqual([]);
  });

  it('does not create a database that is not there', async () => {
    const app = captureLogger();
    const path = `${world.t.path}.absent`;
    await expect(createSipwarden({ database: path, logger: app.logger })).rejects.toBeInstanceOf(DatabaseMissingError);
    expect(existsSync(path)).toBe(false);
  });
});
