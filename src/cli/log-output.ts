import { pino, type DestinationStream } from 'pino';
import { formatLogRecord, parseLogLine, type LogFormat } from './log-lines.js';
import { handleStdoutError } from './stdout-closed.js';

/**
 * Where `serve` writes its log lines: pino's own stdout stream for JSON (as pino does by default),
 * or readable lines on process.stdout. Either way a closed stdout stops the daemon gracefully.
 */
export function logDestination(format: LogFormat): DestinationStream {
  if (format === 'pretty') {
    return {
      write(chunk: string): void {
        for (const line of chunk.split('\n')) {
          if (line === '') continue;
          const record = parseLogLine(line);
          process.stdout.write(`${record === null ? line : formatLogRecord(record)}\n`);
        }
      },
    };
  }
  const stream = pino.destination({ dest: 1 });
  stream.on('error', handleStdoutError);
  return stream;
}
