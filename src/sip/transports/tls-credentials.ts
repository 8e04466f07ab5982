import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions } from 'node:tls';

/** PEM files of a TLS listener (Kamailio tls.cfg `certificate`, `private_key`). */
export interface TlsFiles {
  readonly certificate: string;
  readonly privateKey: string;
  /** Intermediate CA certificates sent after the certificate, when the certificate file lacks them. */
  readonly chain?: string | undefined;
}

/** What an operator checks after a reload: which certificate is now served. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

export interface TlsCredentials {
  /** For tls.createServer / setSecureContext. */
  readonly context: SecureContextOptions;
  readonly certificate: CertificateSummary;
}

/** A certificate, key or CA file that cannot be used; the message names the file and why. */
export class TlsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFileError';
  }
}

/**
 * Reads a listener's certificate, key and chain, and checks them as the TLS stack will: the
 * certificate parses, the key is the certificate's, and OpenSSL builds a context from them. Run at
 * start-up and at each SIGHUP, so that a bad file is refused before it replaces a good one.
 */
export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  const cert = readPem(files.certificate, 'certificate');
  const key = readPem(files.privateKey, 'private key');
  const chain = files.chain === undefined ? '' : readPem(files.chain, 'certificate chain');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsFileError(`${files.certificate}: not a PEM certificate (${(err as Error).message})`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new TlsFileError(`${files.privateKey}: not a PEM private key (${(err as Error).message})`);
  }
  if (!matches) throw new TlsFileError(`${files.privateKey}: this private key does not belong to the certificate ${files.certificate}`);
  const context: SecureContextOptions = { cert: chain === '' ? cert : `${cert.trimEnd()}\n${chain}`, key };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new TlsFileError(`${files.certificate}: OpenSSL refuses the certificate and key (${(err as Error).message})`);
  }
  return {
    context,
    certificate: { subject: x509.subject, issuer: x509.issuer, validFrom: x509.validFrom, validTo: x509.validTo, fingerprint256: x509.fingerprint256 },
  };
}

/** A PEM file's text; a TlsFileError saying which file when it cannot be read or holds no PEM. */
export function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TlsFileError(`cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new TlsFileError(`${path}: the ${what} file holds no PEM block`);
  return text;
}

/** How the upstream's TLS is checked (see config sip.upstream.tls). */
export interface UpstreamTlsSettings {
  readonly caList?: string | undefined;
  readonly verifyCertificate: boolean;
  readonly serverName?: string | undefined;
  readonly certificate?: string | undefined;
  readonly privateKey?: string | undefined;
}

/**
 * The options of a TLS connection to the upstream `host`: its CA list, whether its certificate
 * must verify (and name it: the server name, else `host` when it is a name, else its IP address
 * in the certificate's subjectAltName), SNI, and a client certificate when one is configured.
 */
export function upstreamTlsOptions(settings: UpstreamTlsSettings | undefined, host: string): ConnectionOptions {
  const s = settings ?? { verifyCertificate: true };
  const serverName = s.serverName ?? (isIP(host) === 0 ? host : undefined);
  const options: ConnectionOptions = {
    rejectUnauthorized: s.verifyCertificate,
    // RFC 6066 §3: SNI carries host names only, never an IP address.
    ...(serverName === undefined ? {} : { servername: serverName }),
    ...(s.caList === undefined ? {} : { ca: readPem(s.caList, 'CA list') }),
  };
  if (s.certificate !== undefined && s.privateKey !== undefined) {
    const client = loadTlsCredentials({ certificate: s.certificate, privateKey: s.privateKey });
    return { ...options, ...client.context };
  }
  return options;
}
