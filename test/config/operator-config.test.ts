import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { parseConfig } from '../../src/config/load-config.js';
import { problemsOf } from '../support/config-problems.js';

/* The keys of the operator items: createDatabase, log.format, policy.releaseIdleInstallsAfter. */

const minimal = { sip: { upstream: { host: '127.0.0.1', port: 5080 } } };

function problems(raw: unknown): readonly string[] {
  return problemsOf(() => parseConfig(raw));
}

describe('operator configuration keys', () => {
  it('defaults: no database created unasked, JSON logs, installs never released for idleness', () => {
    const c = parseConfig(minimal);
    expect(c.createDatabase).toBe(false);
    expect(c.log.format).toBe('json');
    expect(c.policy.releaseIdleInstallsAfter).toBeUndefined();
  });

  it('releaseIdleInstallsAfter: a whole number and a unit, at least a minute, as milliseconds', () => {
    const idle = (text: string): number | undefined => parseConfig({ ...minimal, policy: { releaseIdleInstallsAfter: text } }).policy.releaseIdleInstallsAfter;
    expect(idle('30d')).toBe(30 * 86_400_000);
    expect(idle('12h')).toBe(12 * 3_600_000);
    expect(idle('90m')).toBe(90 * 60_000);
    expect(idle('60s')).toBe(60_000);
    for (const bad of ['30', '1.5d', '59s', '-1d', '30 d', '30D', '']) {
      expect(problems({ ...minimal, policy: { releaseIdleInstallsAfter: bad } }), bad).toEqual([
        `policy.releaseIdleInstallsAfter: must be a duration of at least a minute: a whole number and s, m, h or d, e.g. "30d" or "12h"; got ${JSON.stringify(bad)}`,
      ]);
    }
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('7w')).toBeNull();
  });

  it('log.format json or pretty, also from SIPWARDEN_LOG_FORMAT', () => {
    expect(parseConfig({ ...minimal, log: { format: 'pretty' } }).log).toEqual({ level: 'info', refusalLinesPerSecond: 200, format: 'pretty' });
    expect(parseConfig(minimal, { SIPWARDEN_LOG_FORMAT: 'pretty' }).log.format).toBe('pretty');
    expect(problems({ ...minimal, log: { format: 'text' } })[0]).toMatch(/^log\.format: /);
  });

  it('createDatabase is a boolean', () => {
    expect(parseConfig({ ...minimal, createDatabase: true }).createDatabase).toBe(true);
    expect(problems({ ...minimal, createDatabase: 'yes' })[0]).toMatch(/^createDatabase: /);
  });
});
