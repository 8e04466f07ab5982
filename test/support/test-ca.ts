import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './temp-dirs.js';

/**
 * A certificate authority made by the test, with the `openssl` command line (Debian's `openssl`
 * package, installed by scripts/install-test-deps.sh): node:crypto makes keys but no certificates.
 * EC P-256 keys, certificates valid for two days, everything in a temp folder.
 */

export interface IssuedCertificate {
  /** PEM file paths. */
  readonly certificate: string;
  readonly privateKey: string;
  /** The certificate's SHA-256 fingerprint as node:tls reports it (`AA:BB:…`). */
  readonly fingerprint256: string;
}

export interface TestCa {
  readonly dir: string;
  /** The CA certificate (PEM file) a client trusts. */
  readonly caCertificate: string;
  /** Its text, for `ca:` options. */
  readonly caPem: string;
  /** A server certificate for `names`: IP addresses and DNS names in its subjectAltName. */
  issue(commonName: string, names: readonly string[]): IssuedCertificate;
}

/** Why no CA can be made here, or undefined when `openssl` runs. */
export function opensslMissing(): string | undefined {
  const run = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return run.status === 0 ? undefined : 'the openssl command is not installed (Debian package openssl; scripts/install-test-deps.sh)';
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makeTestCa(name = 'sipwarden test CA'): TestCa {
  const dir = makeTempDir('test-ca');
  openssl(
    ['req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const caCertificate = join(dir, 'ca.crt');
  let serial = 0;
  return {
    dir,
    caCertificate,
    caPem: readFileSync(caCertificate, 'utf8'),
    issue(commonName, names) {
      serial++;
      const base = `${commonName.replace(/[^A-Za-z0-9]/g, '_')}-${serial}`;
      const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      writeFileSync(join(dir, `${base}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
      openssl(['req', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`], dir);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial),
        '-days', '2', '-out', `${base}.crt`, '-extfile', `${base}.ext`], dir);
      const certificate = join(dir, `${base}.crt`);
      const fingerprint = execFileSync('openssl', ['x509', '-in', certificate, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
      return {
        certificate,
        privateKey: join(dir, `${base}.key`),
        fingerprint256: (/=([0-9A-F:]+)/.exec(fingerprint)?.[1] ?? '').trim(),
      };
    },
  };
}
