import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Where the real peers live (Debian: `kamailio` in /usr/sbin, `sip-tester`
 * installs /usr/bin/sipp; drachtio-server is built from source, often into
 * /usr/local/bin), or why they cannot be used. Override with
 * SIPWARDEN_KAMAILIO / SIPWARDEN_SIPP / SIPWARDEN_DRACHTIO.
 */
export type ToolLookup = { readonly found: true; readonly path: string } | { readonly found: false; readonly reason: string };

/** /usr/sbin is often not on a normal user's PATH; Kamailio lives there on Debian. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

export function findExecutable(name: string, envOverride: string): ToolLookup {
  const override = process.env[envOverride];
  if (override) {
    return isExecutable(override)
      ? { found: true, path: override }
      : { found: false, reason: `${envOverride}=${override} is not an executable file` };
  }
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return { found: true, path: candidate };
  }
  return { found: false, reason: `${name} not found on PATH or in ${EXTRA_DIRS.join(', ')}` };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let kamailioCache: ToolLookup | undefined;
let sippCache: ToolLookup | undefined;
let modulesCache: ToolLookup | undefined;
let drachtioCache: ToolLookup | undefined;

export function kamailioBinary(): ToolLookup {
  kamailioCache ??= findExecutable('kamailio', 'SIPWARDEN_KAMAILIO');
  return kamailioCache;
}

export function sippBinary(): ToolLookup {
  sippCache ??= findExecutable('sipp', 'SIPWARDEN_SIPP');
  return sippCache;
}

/** drachtio-server's binary: SIPWARDEN_DRACHTIO, else `drachtio` on PATH (or the usual sbin/bin folders). */
export function drachtioBinary(): ToolLookup {
  drachtioCache ??= findExecutable('drachtio', 'SIPWARDEN_DRACHTIO');
  return drachtioCache;
}

/**
 * Kamailio's module folder, as the binary itself reports it in `kamailio -h`
 * ("-L path ... (default: /usr/lib/<multiarch>/kamailio/modules)"), so no
 * architecture is hard-coded; falls back to the usual install locations.
 */
export function kamailioModulesDir(): ToolLookup {
  if (modulesCache) return modulesCache;
  const binary = kamailioBinary();
  if (!binary.found) return (modulesCache = binary);
  const candidates: string[] = [];
  try {
    const help = execFileSync(binary.path, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const match = /Modules search path \(default: ([^)]+)\)/.exec(help);
    if (match?.[1]) candidates.push(match[1].trim());
  } catch {
    // Fall through to the usual locations.
  }
  candidates.push(...multiarchModuleDirs(), '/usr/lib/kamailio/modules', '/usr/lib64/kamailio/modules', '/usr/local/lib64/kamailio/modules');
  const dir = candidates.find((c) => existsSync(join(c, 'tm.so')));
  modulesCache = dir
    ? { found: true, path: dir }
    : { found: false, reason: `no Kamailio module folder with tm.so among ${candidates.join(', ')}` };
  return modulesCache;
}

function multiarchModuleDirs(): string[] {
  try {
    return readdirSync('/usr/lib').map((entry) => join('/usr/lib', entry, 'kamailio', 'modules'));
  } catch {
    return [];
  }
}

/** One line for a skipped suite's title and warning: which peer is missing and why; undefined when all are there. */
export function missingPeers(): string | undefined {
  const problems: string[] = [];
  const kamailio = kamailioBinary();
  if (!kamailio.found) problems.push(kamailio.reason);
  else {
    const modules = kamailioModulesDir();
    if (!modules.found) problems.push(modules.reason);
  }
  const sipp = sippBinary();
  if (!sipp.found) problems.push(sipp.reason);
  return problems.length > 0 ? `${problems.join('; ')} (apt-get install kamailio sip-tester)` : undefined;
}
