import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';

const FLOW_TOKEN = 'flow-token';
const KEY_BYTES = 32;

/**
 * The key sealing the flow tokens of the embedded proxy, made once (at `sipwarden init`, or the
 * first `serve` of a database made before it existed) and kept in the database, so that Path and
 * Record-Route values handed out before a restart still route after it. Several processes may
 * ask at once: the first insert wins and everyone reads the same key.
 */
export function flowTokenKey(db: Db, now: number): Buffer {
  db.prepare('INSERT OR IGNORE INTO sip_keys (name, key, created_at) VALUES (?, ?, ?)').run(FLOW_TOKEN, randomBytes(KEY_BYTES), now);
  const row = db.prepare('SELECT key FROM sip_keys WHERE name = ?').get(FLOW_TOKEN) as { key: Buffer } | undefined;
  if (row === undefined) throw new Error('the flow token key could not be stored');
  return row.key;
}
