import { REMIND_REPEATS } from '../policy/remind-repeat.js';
import { ENFORCEMENT_MODES } from '../policy/enforcement-mode.js';
import { z } from 'zod';
import { CONFIG_FORMAT, CONFIG_VERSION, type ConfigDocument } from './config-document.js';
import { parseIsoTime } from '../shared/iso-time.js';

/*
 * The shape of an import file. Strict objects: an unknown key is most likely a typo that would
 * otherwise be silently ignored. Relations between entries (parents, owners, limits) are checked
 * by the import itself, against the database.
 */

const time = z.string().refine((s) => parseIsoTime(s) !== null, {
  message: 'expected an ISO 8601 time with Z or an offset, e.g. 2026-01-01T00:00:00Z',
});
const limit = z.number().int().min(0);
const name = z.string().min(1);

const licenses = z.strictObject({
  restrictions: z.boolean(),
  virtualNumbers: limit,
  mobileApps: limit,
  validity: z.boolean(),
  validFrom: time.nullable(),
  validUntil: time.nullable(),
  remindDays: limit.nullable(),
  remindRepeat: z.enum(REMIND_REPEATS).optional(),
  enforcement: z.enum(ENFORCEMENT_MODES).optional(),
});

export const configDocumentSchema = z.strictObject({
  format: z.literal(CONFIG_FORMAT),
  version: z.literal(CONFIG_VERSION),
  groups: z.array(
    z.strictObject({ name, parent: name.nullable(), createdAt: time, licenses: licenses.optional() }),
  ),
  users: z.array(
    z.strictObject({
      login: name,
      group: name,
      personalNumbers: limit.nullable(),
      personalApps: limit.nullable(),
      createdAt: time,
    }),
  ),
  numbers: z.array(z.strictObject({ number: name, user: name, createdAt: time })),
  operators: z.array(z.strictObject({ name, permissions: z.array(z.string()) })).optional(),
});

// Every parsed file is a ConfigDocument (compile-time check).
type Parsed = z.infer<typeof configDocumentSchema>;
const _parsedIsDocument: Parsed extends ConfigDocument ? true : never = true;
void _parsedIsDocument;

export type ParsedConfig = { ok: true; document: ConfigDocument } | { ok: false; path: string; message: string };

/** Validates a parsed JSON value; on failure, the first problem with its path (`groups[2].name`). */
export function parseConfigDocument(value: unknown): ParsedConfig {
  const result = configDocumentSchema.safeParse(value);
  if (result.success) return { ok: true, document: result.data };
  const issue = result.error.issues[0];
  if (!issue) return { ok: false, path: '(file)', message: 'invalid configuration' };
  const path = issue.path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`),
    '',
  );
  return { ok: false, path: path === '' ? '(file)' : path, message: issue.message };
}
