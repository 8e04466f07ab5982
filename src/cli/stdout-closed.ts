/**
 * `sipwarden … | head`: a reader that closed the pipe has seen all it wants. Commands end quietly
 * with exit 0, as Unix tools killed by SIGPIPE do, instead of an unhandled EPIPE stack trace and
 * exit 1; `serve` registers a graceful stop instead (sockets and database closed first).
 */
let onClosed: (() => void) | null = null;

/** Runs `stop` (once) instead of exiting at once when stdout's reader goes away. */
export function whenStdoutCloses(stop: () => void): void {
  onClosed = stop;
}

/** The 'error' listener of whatever writes to fd 1 (process.stdout, pino's destination). */
export function handleStdoutError(err: NodeJS.ErrnoException): void {
  // Writes after the first failure report the stream as destroyed: the same closed pipe.
  if (err.code === 'ERR_STREAM_DESTROYED') return;
  if (err.code !== 'EPIPE') throw err;
  const stop = onClosed;
  if (stop === null) process.exit(0);
  onClosed = () => undefined;
  stop();
}
