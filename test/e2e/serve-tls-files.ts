import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { makeTestCa, type IssuedCertificate, type TestCa } from '../support/test-ca.js';
import { makeTempDir } from '../support/temp-dirs.js';
import { SUNRISE } from './projects.js';
import type { ServeProcess } from './serve-process.js';
import { seedProject, type LogLine } from './sidecar-fixture.js';

/**
 * The folder of a `sipwarden serve` with a TLS listener, as an operator lays it out: a database
 * with the Sunrise project, and `sidecar.crt`/`sidecar.key` (relative paths in the config, read
 * from its folder) holding the first of two certificates for sidecar.test from a test CA; the
 * second is the renewal a test installs before SIGHUP, as certbot does.
 */
export interface ServeTlsFolder {
  readonly dir: string;
  readonly database: string;
  readonly ca: TestCa;
  readonly first: IssuedCertificate;
  readonly renewed: IssuedCertificate;
  /** The `sip.tls` section naming the two files. */
  readonly tls: { readonly certificate: string; readonly privateKey: string };
}

export const RELOADED = 'TLS files reloaded; new handshakes use them, established connections keep theirs';

export function serveTlsFolder(name: string): ServeTlsFolder {
  const dir = makeTempDir(name);
  const database = join(dir, 'sipwarden.db');
  const db = openDatabase(database, { create: true });
  try {
    seedProject(db, SUNRISE);
  } finally {
    db.close();
  }
  const ca = makeTestCa();
  const first = ca.issue('sidecar.test', ['sidecar.test', '127.0.0.1']);
  const renewed = ca.issue('sidecar.test', ['sidecar.test', '127.0.0.1']);
  const folder: ServeTlsFolder = { dir, database, ca, first, renewed, tls: { certificate: 'sidecar.crt', privateKey: 'sidecar.key' } };
  installCertificate(folder, first);
  return folder;
}

/** Writes `cert` over the files the config names. */
export function installCertificate(folder: ServeTlsFolder, cert: IssuedCertificate): void {
  copyFileSync(cert.certificate, join(folder.dir, folder.tls.certificate));
  copyFileSync(cert.privateKey, join(folder.dir, folder.tls.privateKey));
}

/** Installs the renewed certificate, sends SIGHUP and waits for the line saying it was reloaded. */
export async function renewAndReload(folder: ServeTlsFolder, serve: ServeProcess): Promise<LogLine> {
  installCertificate(folder, folder.renewed);
  process.kill(serve.pid, 'SIGHUP');
  return serve.waitForLine((l) => l.msg === RELOADED, 'the reload line');
}
