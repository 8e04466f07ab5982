import { pino, type Logger } from 'pino';

/** A pino line as written, parsed. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

/** A logger that keeps every line as parsed JSON, plus the raw text (to look for leaked secrets). */
export function captureLogger(): { logger: Logger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  let raw = '';
  const logger = pino(
    { level: 'debug', base: { app: 'sipwarden' } },
    {
      write(text: string): void {
        raw += text;
        for (const line of text.split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines, text: () => raw };
}
