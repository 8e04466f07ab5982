import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { problemsOf } from '../support/config-problems.js';
import { assertBuilt, killRunning, runCli } from '../cli/cli-harness.js';

/* The notify section: every problem listed at start-up, the secret from the environment only and never printed. */

const sip = { upstream: { host: '127.0.0.1', port: 5080 } };
const SECRET = 'webhook-secret-for-tests-42';

/** The problems parseConfig reports for `raw` (test/support/config-problems.ts). */
const problemsOfConfig = (raw: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] => problemsOf(() => parseConfig(raw, env));

describe('notify configuration', () => {
  it('defaults: no webhooks, no secret needed, 250 ms ticks', () => {
    const c = parseConfig({ sip }, {});
    expect(c.notify).toMatchObject({ webhooks: [], secretEnv: 'SIPWARDEN_WEBHOOK_SECRET', maxAgeHours: 72, tickMs: 250, timeoutMs: 5000 });
    expect(c.notify.retry).toEqual({ baseDelayMs: 1000, maxDelayMs: 300_000 });
    expect(c.notify.secret).toBeUndefined();
  });

  it('reads the secret from SIPWARDEN_WEBHOOK_SECRET, or the variable secretEnv names, and never prints it', () => {
    const c = parseConfig({ sip, notify: { webhooks: [{ url: 'https://push.example.com/hooks/sipwarden' }] } }, { SIPWARDEN_WEBHOOK_SECRET: SECRET });
    expect(c.notify.secret?.reveal()).toBe(SECRET);
    expect(JSON.stringify(c)).not.toContain(SECRET);
    expect(inspect(c, { depth: 10 })).not.toContain(SECRET);
    expect(`${String(c.notify.secret)}`).toBe('[redacted]');
    const custom = parseConfig({ sip, notify: { webhooks: [{ url: 'http://127.0.0.1:9/x' }], secretEnv: 'PUSH_KEY' } }, { PUSH_KEY: SECRET });
    expect(custom.notify.secret?.reveal()).toBe(SECRET);
  });

  it('lists every problem at once: bad URLs, a missing secret, bad retry and tick values', () => {
    const problems = problemsOfConfig({
      sip,
      notify: {
        webhooks: [{ url: 'localhost:8080/hook' }, { url: 'ftp://push.example.com/x' }, { url: 'not a url' }, { url: 'http://ok.example/a' }, { url: 'http://ok.example/a' }],
        retry: { baseDelayMs: 5000, maxDelayMs: 1000 },
        tickMs: 5000,
        maxAgeHours: 0,
      },
    });
    const text = problems.join('\n');
    expect(text).toMatch(/notify\.webhooks\.0\.url: must be an absolute http:\/\/ or https:\/\/ URL with a host.*"localhost:8080\/hook"/);
    expect(text).toMatch(/notify\.webhooks\.1\.url: must be an absolute http/);
    expect(text).toMatch(/notify\.webhooks\.2\.url: must be an absolute http/);
    expect(text).toMatch(/notify\.webhooks\.4\.url: is listed twice/);
    expect(text).toMatch(/notify\.retry\.maxDelayMs: must not be below baseDelayMs \(5000\)/);
    expect(text).toMatch(/notify\.tickMs/);
    expect(text).toMatch(/notify\.maxAgeHours/);
  });

  it('webhooks without a secret name the variable to set', () => {
    expect(problemsOfConfig({ sip, notify: { webhooks: [{ url: 'https://push.example.com/h' }] } }).join('\n')).toMatch(
      /notify\.secret: webhooks are configured but the environment variable SIPWARDEN_WEBHOOK_SECRET is not set/,
    );
    expect(problemsOfConfig({ sip, notify: { webhooks: [{ url: 'https://push.example.com/h' }], secretEnv: 'PUSH_KEY' } }).join('\n')).toMatch(
      /environment variable PUSH_KEY is not set/,
    );
  });

  it('refuses a secret written in the file, a short secret and a bad variable name', () => {
    const inFile = problemsOfConfig({ sip, notify: { secret: SECRET } }).join('\n');
    expect(inFile).toMatch(/notify\.secret: the webhook secret is read from the environment only; remove it from the file and set SIPWARDEN_WEBHOOK_SECRET/);
    expect(inFile).not.toContain(SECRET);
    expect(problemsOfConfig({ sip }, { SIPWARDEN_WEBHOOK_SECRET: 'short' }).join('\n')).toMatch(/notify\.secret: the webhook secret must be at least 16 characters/);
    expect(problemsOfConfig({ sip, notify: { secretEnv: 'not a name' } }).join('\n')).toMatch(/notify\.secretEnv: must be the name of an environment variable/);
  });
});

describe('sipwarden serve with a bad notify section', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-notify-config-'));
  });
  afterAll(() => {
    killRunning();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops at start-up with exit 2 and one line per problem', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ database: join(dir, 'x.db'), sip: { ...sip, listen: { udp: { host: '127.0.0.1', port: 0 } } }, notify: { webhooks: [{ url: 'push-gateway:8080' }] } }),
    );
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith(`sipwarden: ${file}: notify.`))).toBe(true);
    expect(r.stderr).toMatch(/notify\.webhooks\.0\.url: must be an absolute http/);
    expect(r.stderr).toMatch(/notify\.secret: webhooks are configured but the environment variable SIPWARDEN_WEBHOOK_SECRET is not set/);
    expect(r.stdout).toBe('');
  });
});
