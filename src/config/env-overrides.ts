/**
 * Environment variables that override the configuration file, for containers and secrets. Kept
 * apart from the schema so that `serve --help` can list them without loading zod.
 */
export const ENV_OVERRIDES = {
  SIPWARDEN_DB: 'database',
  SIPWARDEN_LOG_LEVEL: 'log.level',
  SIPWARDEN_LOG_FORMAT: 'log.format',
  SIPWARDEN_SIP_MODE: 'sip.mode',
  SIPWARDEN_UPSTREAM: 'sip.upstream (host:port)',
  SIPWARDEN_ADVERTISED_HOST: 'sip.advertisedHost',
  SIPWARDEN_DRACHTIO_HOST: 'sip.drachtio.host',
  SIPWARDEN_DRACHTIO_PORT: 'sip.drachtio.port',
  SIPWARDEN_DRACHTIO_SECRET: 'sip.drachtio.secret',
  SIPWARDEN_FLOW_TOKEN_SECRET: 'sip.flowTokenSecret',
  SIPWARDEN_WEBHOOK_SECRET: 'notify.secret (the variable named by notify.secretEnv; environment only)',
} as const;
