import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BadInputError } from '../errors.js';
import { formatLogRecord, matchesFilter, parseLogLine, type LogFilter } from '../log-lines.js';
import type { Program } from '../root-command.js';

const HELP = `
Reads the JSON lines 'sipwarden serve' writes (from FILE, or stdin) and prints them readably:
  2026-05-01T09:15:02.120Z INFO  refused method=REGISTER number=1001 group=Sunrise decision=deny reason=license-expired …
Lines that are not JSON (npm's banner, a stack trace) pass through unchanged, unless a filter or
--json is given. Needs no token and no database.

Examples:
  journalctl -u sipwarden -o cat -f | sipwarden logs --decisions
  docker logs -f sipwarden | sipwarden logs --number 1001
  sipwarden logs serve.log --call-id a84b4c76e66710 --json     # the matching JSON lines, for scripts`;

function open(file: string | undefined): NodeJS.ReadableStream {
  if (file === undefined) return process.stdin;
  try {
    return createReadStream('', { fd: openSync(file, 'r') });
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new BadInputError(`FILE: cannot read ${file} (${reason}); expected a file of sipwarden's JSON log lines`);
  }
}

export function registerLogsCommand(program: Program): void {
  program
    .command('logs')
    .description("print the daemon's JSON log lines readably, optionally only some of them")
    .argument('[file]', 'a file of log lines; without it, stdin')
    .option('--decisions', 'only decision lines (one per REGISTER or INVITE decided)')
    .option('--call-id <id>', 'only the lines of this call')
    .option('--number <number>', 'only the lines about this number (registering, calling or called)')
    .option('--json', 'print the matching lines as they came (JSON), nothing else')
    .addHelpText('after', HELP)
    .action(async (file, opts) => {
      const filter: LogFilter = {
        ...(opts.decisions ? { decisions: true } : {}),
        ...(opts.callId === undefined ? {} : { callId: opts.callId }),
        ...(opts.number === undefined ? {} : { number: opts.number }),
      };
      const filtering = opts.json === true || Object.keys(filter).length > 0;
      for await (const line of createInterface({ input: open(file), crlfDelay: Infinity })) {
        const record = parseLogLine(line);
        if (record === null) {
          if (!filtering) process.stdout.write(`${line}\n`);
          continue;
        }
        if (!matchesFilter(record, filter)) continue;
        process.stdout.write(`${opts.json ? line : formatLogRecord(record)}\n`);
      }
    });
}
