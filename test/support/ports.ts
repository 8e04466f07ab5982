import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/**
 * Free loopback ports for SIP peers: the same number free on UDP and TCP
 * (SIP listens on both, RFC 3261 section 18), safe across parallel test files.
 *
 * Ports come from a fixed range below the kernel's ephemeral range
 * (32768-60999 on Linux), so a socket bound to port 0 elsewhere in the suite
 * can never take a port handed out here between allocation and bind. Each
 * worker process claims a port with an exclusive lock file; a claim is
 * honoured while its process lives and for CLAIM_TTL_MS, which is far longer
 * than the gap between allocation and the peer binding the port (after that
 * the bound socket itself keeps others out).
 */
const RANGE_START = 20_000;
const RANGE_SIZE = 10_000;
const CLAIM_TTL_MS = 120_000;
const MAX_ATTEMPTS = 200;
/** Per user: a folder another user created would not be writable here. Across users the bind check still guards. */
const LOCK_DIR = join(tmpdir(), `sipwarden-test-ports-${process.getuid?.() ?? 'user'}`);

let swept = false;

/** One port free on 127.0.0.1 for both UDP and TCP. */
export async function freePort(): Promise<number> {
  mkdirSync(LOCK_DIR, { recursive: true });
  if (!swept) {
    swept = true;
    sweepStaleClaims();
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const port = RANGE_START + Math.floor(Math.random() * RANGE_SIZE);
    if (!claim(port)) continue;
    if (await bindsOnBoth(port)) return port;
    release(port);
  }
  throw new Error(`no free UDP+TCP port on 127.0.0.1 in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1} after ${MAX_ATTEMPTS} attempts`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** Claims are never released explicitly (test workers are killed, not exited); drop the stale ones once per process. */
function sweepStaleClaims(): void {
  for (const entry of readdirSync(LOCK_DIR)) {
    const path = join(LOCK_DIR, entry);
    if (entry.endsWith('.lock') && isStale(path)) {
      try {
        unlinkSync(path);
      } catch {
        // Another worker swept it first.
      }
    }
  }
}

function lockPath(port: number): string {
  return join(LOCK_DIR, `${port}.lock`);
}

/** Take the lock file for `port`, replacing a stale one; false if someone else holds it. */
function claim(port: number): boolean {
  const path = lockPath(port);
  if (tryCreate(path)) return true;
  if (!isStale(path)) return false;
  try {
    unlinkSync(path);
  } catch {
    return false;
  }
  return tryCreate(path);
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

function isStale(path: string): boolean {
  try {
    const age = Date.now() - statSync(path).mtimeMs;
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return age > CLAIM_TTL_MS || !Number.isInteger(owner) || !processAlive(owner);
  } catch {
    // Vanished or unreadable mid-check: treat as taken and try another port.
    return false;
  }
}

function release(port: number): void {
  try {
    unlinkSync(lockPath(port));
  } catch {
    // Already gone.
  }
}

async function bindsOnBoth(port: number): Promise<boolean> {
  const tcp = createServer();
  const tcpOk = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(true));
  });
  if (!tcpOk) return false;
  const udp = createSocket('udp4');
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve(true));
  });
  await new Promise<void>((resolve) => {
    try {
      udp.close(() => resolve());
    } catch {
      // A socket whose bind failed is already closed.
      resolve();
    }
  });
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  return udpOk;
}
