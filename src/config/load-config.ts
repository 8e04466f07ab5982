import { readFileSync } from 'node:fs';
import { isAbsolute, dirname, resolve } from 'node:path';
import { configSchema, DEFAULT_WEBHOOK_SECRET_ENV, type Config } from './schema.js';

/** A configuration that cannot be used; `problems` lists every one at once. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export { ENV_OVERRIDES } from './env-overrides.js';

type Json = Record<string, unknown>;

function child(obj: Json, key: string): Json {
  const v = obj[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  const fresh: Json = {};
  obj[key] = fresh;
  return fresh;
}

function applyEnv(raw: Json, env: NodeJS.ProcessEnv, problems: string[]): void {
  if (env.SIPWARDEN_DB) raw.database = env.SIPWARDEN_DB;
  if (env.SIPWARDEN_LOG_LEVEL) child(raw, 'log').level = env.SIPWARDEN_LOG_LEVEL;
  if (env.SIPWARDEN_LOG_FORMAT) child(raw, 'log').format = env.SIPWARDEN_LOG_FORMAT;
  const sip = (): Json => child(raw, 'sip');
  if (env.SIPWARDEN_SIP_MODE) sip().mode = env.SIPWARDEN_SIP_MODE;
  if (env.SIPWARDEN_UPSTREAM) {
    const m = /^(.+):(\d{1,5})$/.exec(env.SIPWARDEN_UPSTREAM);
    if (!m) problems.push(`SIPWARDEN_UPSTREAM: expected host:port, got "${env.SIPWARDEN_UPSTREAM}"`);
    else Object.assign(child(sip(), 'upstream'), { host: m[1], port: Number(m[2]) });
  }
  if (env.SIPWARDEN_ADVERTISED_HOST) sip().advertisedHost = env.SIPWARDEN_ADVERTISED_HOST;
  if (env.SIPWARDEN_DRACHTIO_HOST) child(sip(), 'drachtio').host = env.SIPWARDEN_DRACHTIO_HOST;
  if (env.SIPWARDEN_DRACHTIO_PORT) child(sip(), 'drachtio').port = Number(env.SIPWARDEN_DRACHTIO_PORT);
  if (env.SIPWARDEN_DRACHTIO_SECRET) child(sip(), 'drachtio').secret = env.SIPWARDEN_DRACHTIO_SECRET;
  if (env.SIPWARDEN_FLOW_TOKEN_SECRET) sip().flowTokenSecret = env.SIPWARDEN_FLOW_TOKEN_SECRET;
  applyWebhookSecret(raw, env, problems);
}

/** The webhook secret comes from the environment only, so it never sits in a config file. */
function applyWebhookSecret(raw: Json, env: NodeJS.ProcessEnv, problems: string[]): void {
  const notify = raw.notify;
  const given = notify && typeof notify === 'object' && !Array.isArray(notify) ? (notify as Json) : undefined;
  const name = typeof given?.secretEnv === 'string' ? given.secretEnv : DEFAULT_WEBHOOK_SECRET_ENV;
  if (given && 'secret' in given) {
    problems.push(`notify.secret: the webhook secret is read from the environment only; remove it from the file and set ${name}`);
    delete given.secret;
  }
  const value = env[name];
  if (value !== undefined && value !== '') child(raw, 'notify').secret = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a raw configuration object plus environment overrides, once, at start-up, into a
 * frozen Config. Every problem is reported together so an operator fixes them in one pass.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, source = 'config', baseDir = process.cwd()): Config {
  const problems: string[] = [];
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (!isObject) problems.push('(root): the configuration must be a JSON object');
  const copy: Json = isObject ? structuredClone(raw as Json) : {};
  applyEnv(copy, env, problems);
  const result = configSchema.safeParse(copy);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.length ? issue.path.join('.') : '(root)';
      problems.push(`${path}: ${issue.message}`);
    }
  }
  if (problems.length || !result.success) throw new ConfigError(source, problems);
  const config = result.data;
  if (config.database !== ':memory:' && !isAbsolute(config.database)) {
    config.database = resolve(baseDir, config.database);
  }
  // Certificate, key and CA files, like the database, are relative to the config file.
  const files = (o: Record<string, unknown> | undefined, keys: readonly string[]): void => {
    if (o === undefined) return;
    for (const k of keys) if (typeof o[k] === 'string') o[k] = resolve(baseDir, o[k]);
  };
  files(config.sip.tls, ['certificate', 'privateKey', 'chain']);
  files(config.sip.upstream.tls, ['caList', 'certificate', 'privateKey']);
  return deepFreeze(config);
}

/** Reads a JSON config file (paths inside it are relative to the file) and validates it. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): Config {
  if (!path) return parseConfig({}, env, 'defaults and environment');
  return parseConfig(readConfigFile(path), env, path, dirname(resolve(path)));
}

/**
 * Only the `policy` section of a config file (or the defaults), validated as `serve` validates
 * it: what `check` needs to decide as the sidecar does, without the secrets and listeners the
 * rest of the file may require.
 */
export function loadPolicyConfig(path: string | undefined): Config['policy'] {
  const raw = path ? readConfigFile(path) : {};
  const section = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json).policy : undefined;
  const result = configSchema.shape.policy.safeParse(section);
  if (result.success) return deepFreeze(result.data);
  throw new ConfigError(
    path ?? 'defaults',
    result.error.issues.map((issue) => `${['policy', ...issue.path].join('.')}: ${issue.message}`),
  );
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
}
