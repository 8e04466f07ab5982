import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { startProcess, type ProcessExit } from './managed-process.js';
import { kamailioBinary, kamailioModulesDir } from './peer-tools.js';
import { freePort } from './ports.js';
import { probeSipOptions } from './sip-options-probe.js';
import { FIXTURES_DIR } from './repo-root.js';
import { makeTempDir } from './temp-dirs.js';

export const KAMAILIO_FIXTURES_DIR = join(FIXTURES_DIR, 'kamailio') + sep;

/**
 * - registrar: the intercom SIP server stand-in (REGISTER -> 200, INVITE relayed
 *   to the registered contact, Record-Route, loose routing).
 * - stateless-proxy: a pure stateless forwarder to `forwardTo`, the benchmark reference.
 */
export type KamailioConfigName = 'registrar' | 'stateless-proxy';

export type KamailioPathMode = 0 | 1 | 2 | 'ignore';

export interface KamailioOptions {
  readonly config: KamailioConfigName;
  /** UDP and TCP on 127.0.0.1; a free port by default. */
  readonly port?: number;
  /** stateless-proxy (required): next hop "host:port". */
  readonly forwardTo?: string;
  readonly forwardTransport?: 'udp' | 'tcp';
  /** registrar: "host:port" that gets INVITEs for numbers nobody registered (else 404). */
  readonly fallbackTo?: string;
  readonly fallbackTransport?: 'udp' | 'tcp';
  /**
   * registrar: answer REGISTER/INVITE for numbers starting with `prefix` with a
   * 403 shaped like sipwarden's (Warning 399, X-Sipwarden-Reason: `reason`), to
   * prove the refusal checks of the SIPp scenarios without sipwarden.
   */
  readonly refusals?: { readonly prefix: string; readonly reason: string };
  /**
   * registrar: digest authentication of the REGISTERs whose To user starts with this prefix (realm
   * sipwarden.test, password of user U = "pw-U"); the others register without.
   */
  readonly authPrefix?: string;
  /**
   * registrar: how Path (RFC 3327) is handled: Kamailio's registrar `path_mode` with `use_path 1`
   * (0 off: always stored, never echoed; 1 lazy: echoed when the client supports path; 2 strict:
   * 420 to clients without `Supported: path`), or 'ignore' for `use_path 0`. Default 0, as the
   * README tells operators to set it.
   */
  readonly pathMode?: KamailioPathMode;
  /** -m, shared memory in MB (default 256; DESIGN.md section 5: 2048 for INVITE load). */
  readonly sharedMemMb?: number;
  /** Core `maxbuffer`: the UDP receive buffer Kamailio probes up to, in bytes (e.g. 4 MiB). */
  readonly maxBuffer?: number;
  /** Worker processes per UDP socket, and TCP workers (default 2). */
  readonly children?: number;
  /**
   * registrar: load the ctl module on a unix socket in the temp dir (`ctlSocket` of the handle,
   * for `kamcmd`), and report what Kamailio acted on in X-Kam-* headers (see registrar.cfg).
   */
  readonly ctl?: boolean;
  /** registrar: digest authentication (realm sipwarden.test, password of user U = "pw-U"). */
  readonly auth?: boolean;
  /** registrar: usrloc `use_domain` 1 (AoRs are user@domain); default 0, as the README's registrar. */
  readonly useDomain?: boolean;
  /** Kamailio log level: 1 warnings and errors, 2 info (default), 3 debug. */
  readonly debug?: number;
  /**
   * `-x`: the shared (and, unless `-X` differs, private) memory manager. Kamailio's default `qm`
   * keeps per-fragment debugging records (the Debian build has DBG_SR_MEMORY); `fm` and `tlsf`
   * are the allocators without them.
   */
  readonly memoryManager?: 'qm' | 'fm' | 'tlsf';
  /** stateless-proxy: one xlog line per request and reply at L_INFO (seen with debug ≥ 2), to measure its cost. */
  readonly messageLog?: boolean;
  /** Bound on start-up until the first OPTIONS is answered (default 10 s). */
  readonly startTimeoutMs?: number;
  /**
   * registrar: a TLS listener too (Debian package kamailio-tls-modules) on `tls.port` (default a
   * free port) with this certificate and key (PEM files); see `kamailioTlsMissing()`.
   */
  readonly tls?: { readonly certificate: string; readonly privateKey: string; readonly port?: number };
}

export interface KamailioHandle {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  readonly configPath: string;
  readonly logPath: string;
  /** The ctl module's unix socket (`kamcmd -s unix:<path>`), when started with `ctl`. */
  readonly ctlSocket: string | null;
  /** The TLS listener's port, when started with `tls`. */
  readonly tlsPort: number | null;
  /** Everything Kamailio logged so far (stderr, -E). */
  logs(): string;
  /** SIGTERM, SIGKILL to its process group after 3 s; waits for the exit. */
  stop(): Promise<ProcessExit>;
}

const DEFAULT_SHM_MB = 256;
const DEFAULT_CHILDREN = 2;
const DEFAULT_START_TIMEOUT_MS = 10_000;

/** Why Kamailio cannot serve TLS here (no tls.so: Debian package kamailio-tls-modules), or undefined. */
export function kamailioTlsMissing(): string | undefined {
  const modules = kamailioModulesDir();
  if (!modules.found) return modules.reason;
  return existsSync(join(modules.path, 'tls.so')) ? undefined : `Kamailio's tls module is not installed (${join(modules.path, 'tls.so')}; Debian package kamailio-tls-modules)`;
}

/** Write the config for `options` into a fresh temp dir, start Kamailio in the foreground and wait until it answers OPTIONS. */
export async function startKamailio(options: KamailioOptions): Promise<KamailioHandle> {
  const binary = kamailioBinary();
  if (!binary.found) throw new Error(binary.reason);
  const port = options.port ?? (await freePort());
  const dir = makeTempDir(`kamailio-${options.config}`);
  const configPath = join(dir, 'kamailio.cfg');
  const logPath = join(dir, 'kamailio.log');
  const ctlSocket = options.ctl === true ? join(dir, 'ctl.sock') : null;
  const tls = options.tls === undefined ? undefined : { ...options.tls, port: options.tls.port ?? (await freePort()) };
  writeFileSync(configPath, renderKamailioConfig({ ...options, port, ctlSocket, tls }));

  const proc = startProcess(binary.path, kamailioArgs(configPath, dir, options), {
    cwd: dir,
    stdoutPath: logPath,
    stderrPath: logPath,
  });
  const logs = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

  const answer = await probeSipOptions({
    host: '127.0.0.1',
    port,
    timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    gaveUp: () => proc.exitStatus() !== undefined,
  });
  if (answer === undefined) {
    const exit = await proc.stop();
    throw new Error(`kamailio (${options.config}) on 127.0.0.1:${port} never answered OPTIONS; exit ${exit.code ?? exit.signal}\n${tail(logs())}`);
  }
  return { host: '127.0.0.1', port, pid: proc.pid, configPath, logPath, ctlSocket, tlsPort: tls?.port ?? null, logs, stop: () => proc.stop() };
}

/**
 * Run `kamailio -c` on the rendered config: undefined when valid, else
 * Kamailio's complaint. Nothing is started.
 */
export async function checkKamailioConfig(options: KamailioOptions & { readonly port: number }): Promise<string | undefined> {
  const binary = kamailioBinary();
  if (!binary.found) return binary.reason;
  const dir = makeTempDir(`kamailio-check-${options.config}`);
  const configPath = join(dir, 'kamailio.cfg');
  writeFileSync(configPath, renderKamailioConfig(options));
  return new Promise((resolve) => {
    execFile(binary.path, ['-c', '-f', configPath], { cwd: dir, timeout: 10_000 }, (error, stdout, stderr) => {
      resolve(error ? `${stdout}${stderr}` : undefined);
    });
  });
}

/** The template from test/fixtures/kamailio with every {{PLACEHOLDER}} filled. */
export function renderKamailioConfig(
  options: KamailioOptions & { readonly port: number; readonly ctlSocket?: string | null },
): string {
  const modules = kamailioModulesDir();
  if (!modules.found) throw new Error(modules.reason);
  const defines: string[] = [];
  const values: Record<string, string> = {
    PORT: String(options.port),
    MPATH: modules.path.endsWith('/') ? modules.path : `${modules.path}/`,
    DEBUG: String(options.debug ?? 2),
    CHILDREN: String(options.children ?? DEFAULT_CHILDREN),
    GLOBALS: options.maxBuffer === undefined ? '' : `maxbuffer=${options.maxBuffer}`,
    FALLBACK_URI: '',
    NEXT_HOP_URI: '',
    REFUSE_PREFIX: '',
    REFUSE_REASON: '',
    AUTH_PREFIX: '',
    CTL_SOCKET: '',
    USE_DOMAIN: options.useDomain === true ? '1' : '0',
    USE_PATH: options.pathMode === 'ignore' ? '0' : '1',
    PATH_MODE: String(options.pathMode === 'ignore' || options.pathMode === undefined ? 0 : options.pathMode),
    TLS_PORT: '',
    TLS_CERTIFICATE: '',
    TLS_PRIVATE_KEY: '',
  };
  if (options.config === 'registrar' && options.tls !== undefined) {
    if (options.tls.port === undefined) throw new Error('tls: the port must be chosen before rendering');
    defines.push('#!define WITH_TLS');
    values['TLS_PORT'] = String(options.tls.port);
    values['TLS_CERTIFICATE'] = options.tls.certificate;
    values['TLS_PRIVATE_KEY'] = options.tls.privateKey;
  }
  if (options.config === 'registrar' && options.fallbackTo) {
    defines.push('#!define WITH_FALLBACK');
    values['FALLBACK_URI'] = sipUri(options.fallbackTo, options.fallbackTransport);
  }
  if (options.config === 'registrar' && options.refusals) {
    const { prefix, reason } = options.refusals;
    if (!/^\w+$/.test(prefix) || !/^[\w-]+$/.test(reason)) throw new Error(`refusals: prefix and reason must be plain tokens, got ${prefix} / ${reason}`);
    defines.push('#!define WITH_REFUSALS');
    values['REFUSE_PREFIX'] = prefix;
    values['REFUSE_REASON'] = reason;
  }
  if (options.config === 'registrar' && options.authPrefix !== undefined) {
    if (!/^\d+$/.test(options.authPrefix)) throw new Error(`authPrefix: digits expected, got ${options.authPrefix}`);
    defines.push('#!define WITH_AUTH_PREFIX');
    values['AUTH_PREFIX'] = options.authPrefix;
  }
  if (options.config === 'stateless-proxy' && options.messageLog === true) defines.push('#!define WITH_MESSAGE_LOG');
  if (options.config === 'registrar' && options.ctl === true) {
    defines.push('#!define WITH_CTL');
    values['CTL_SOCKET'] = options.ctlSocket ?? 'ctl.sock';
  }
  if (options.config === 'registrar' && options.auth === true) defines.push('#!define WITH_AUTH');
  if (options.config === 'stateless-proxy') {
    if (!options.forwardTo) throw new Error('stateless-proxy needs forwardTo ("host:port")');
    values['NEXT_HOP_URI'] = sipUri(options.forwardTo, options.forwardTransport);
  }
  values['DEFINES'] = defines.join('\n');
  const template = readFileSync(join(KAMAILIO_FIXTURES_DIR, `${options.config}.cfg`), 'utf8');
  return fillTemplate(template, values);
}

function kamailioArgs(configPath: string, dir: string, options: KamailioOptions): string[] {
  return [
    '-f', configPath,
    // -DD: stay in the foreground as the creator process (its PID is the one we stop); -E: log to stderr.
    '-DD', '-E',
    '-m', String(options.sharedMemMb ?? DEFAULT_SHM_MB),
    ...(options.memoryManager === undefined ? [] : ['-x', options.memoryManager]),
    '-P', join(dir, 'kamailio.pid'),
    // Working and runtime dirs in the temp folder: nothing under /run/kamailio, no root needed.
    '-w', dir, '-Y', dir,
  ];
}

function sipUri(hostPort: string, transport: 'udp' | 'tcp' | undefined): string {
  if (!/^[\w.-]+:\d+$/.test(hostPort)) throw new Error(`expected "host:port", got ${JSON.stringify(hostPort)}`);
  return `sip:${hostPort};transport=${transport ?? 'udp'}`;
}

function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const filled = template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  const left = /\{\{[A-Z_]+\}\}/.exec(filled);
  if (left) throw new Error(`kamailio template placeholder ${left[0]} has no value`);
  return filled;
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
