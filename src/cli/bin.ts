#!/usr/bin/env node
import { run } from './run.js';
import { handleStdoutError } from './stdout-closed.js';

process.stdout.on('error', handleStdoutError);

// exitCode, not process.exit(): stdout is flushed before the process ends (a piped export).
process.exitCode = await run(process.argv.slice(2));
