import type { Logger } from 'pino';

const EVERY_MS = 10_000;

/**
 * Logs refused connections at most once per 10 s with a count, so that a connection flood cannot
 * become a log flood.
 */
export function refusalLogger(log: Logger, transport: string, limit: number): () => void {
  let last = 0;
  let refused = 0;
  return () => {
    refused++;
    const now = Date.now();
    if (now - last < EVERY_MS) return;
    log.warn({ transport, limit, refused }, 'connection limit reached; new connections refused');
    last = now;
    refused = 0;
  };
}
