import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT, DrachtioConnection, reconnectDelay } from '../../../src/sip/drachtio/connection.js';
import { createSrf } from '../../../src/sip/drachtio/srf.js';
import { freePort } from '../../support/ports.js';
import { FakeDrachtioServer } from './fake-drachtio-server.js';
import { LogLines } from './world.js';

describe('reconnectDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50, 5000].map((n) => reconnectDelay(n, DEFAULT_RECONNECT));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    expect(reconnectDelay(0, { initialDelayMs: 20, maxDelayMs: 100 })).toBe(20);
  });
});

/** Polls state the test can read (a log line); bounded so a broken client fails with a message. */
async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('DrachtioConnection', () => {
  let logs: LogLines;
  let connection: DrachtioConnection | undefined;
  let server: FakeDrachtioServer | undefined;

  beforeEach(() => {
    logs = new LogLines();
  });

  afterEach(async () => {
    await connection?.close();
    await server?.close();
    connection = undefined;
    server = undefined;
  });

  function connect(port: number, secret: string, initialDelayMs = 20): DrachtioConnection {
    const c = new DrachtioConnection(createSrf(), {
      target: { host: '127.0.0.1', port, secret },
      logger: pino({ level: 'debug' }, logs),
      reconnect: { initialDelayMs, maxDelayMs: 100 },
    });
    c.start();
    return c;
  }

  it('keeps trying until drachtio-server is up, then connects', async () => {
    const port = await freePort();
    connection = connect(port, 's');
    await eventually(() => logs.withMsg('cannot connect to drachtio-server; retrying').length >= 2, 'two failed attempts');
    const attempts = logs.withMsg('cannot connect to drachtio-server; retrying');
    expect(attempts.slice(0, 2)).toMatchObject([
      { attempt: 1, delayMs: 20, drachtio: `127.0.0.1:${port}` },
      { attempt: 2, delayMs: 40 },
    ]);
    expect(String(attempts[0]?.err)).toMatch(/ECONNREFUSED/);
    server = await FakeDrachtioServer.start({ secret: 's', port });
    await connection.whenConnected();
    expect(connection.connected).toBe(true);
  });

  it('logs a refused secret as an error and retries', async () => {
    server = await FakeDrachtioServer.start({ secret: 'right' });
    connection = connect(server.port, 'wrong');
    await server.until(() => server!.commands.filter((c) => c.verb === 'authenticate').length >= 2, 'a second authenticate');
    expect(logs.withMsg('drachtio-server refused us; check sip.drachtio.secret').at(0)).toMatchObject({ level: 50, err: 'failed to authenticate to server' });
    expect(connection.connected).toBe(false);
    // The secret is never logged.
    expect(JSON.stringify(logs.lines)).not.toContain('wrong');
  });

  it('closes while waiting to retry: no further attempt, and whenConnected rejects', async () => {
    const port = await freePort();
    connection = connect(port, 's', 50);
    await eventually(() => logs.withMsg('cannot connect to drachtio-server; retrying').length === 1, 'the first failure');
    const pending = connection.whenConnected();
    await connection.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(connection.whenConnected()).rejects.toThrow(/closed/);
    // A retry was due 50 ms after the failure; listen where it would go and give it ample time.
    server = await FakeDrachtioServer.start({ secret: 's', port });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.accepted).toBe(0);
    expect(logs.withMsg('drachtio connection closed')).toHaveLength(1);
  });

  it('close() is idempotent and safe before start', async () => {
    const idle = new DrachtioConnection(createSrf(), { target: { host: '127.0.0.1', port: 1, secret: 's' }, logger: pino({ level: 'silent' }) });
    await Promise.all([idle.close(), idle.close()]);
    expect(idle.connected).toBe(false);
  });
});
