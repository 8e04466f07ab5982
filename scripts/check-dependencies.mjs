#!/usr/bin/env node
/**
 * Checks src/ against the layer rules in .dependency-cruiser.mjs (run by `npm run lint`).
 * dependency-cruiser's own command refuses Node 20, which sipwarden supports, so this calls its API.
 * Usage: node scripts/check-dependencies.mjs [--base DIR]   (DIR holds src/ and tsconfig.json; default: the repository)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import config from '../.dependency-cruiser.mjs';

const repo = resolve(fileURLToPath(import.meta.url), '../..');
const args = process.argv.slice(2);
const baseIndex = args.indexOf('--base');
const baseDir = baseIndex >= 0 && args[baseIndex + 1] ? resolve(args[baseIndex + 1]) : repo;

process.chdir(baseDir);
const result = await cruise(
  ['src'],
  { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden }, outputType: 'err' },
  undefined,
  { tsConfig: extractTSConfig(resolve(baseDir, 'tsconfig.json')) },
);
process.stdout.write(result.output);
process.exitCode = result.exitCode === 0 ? 0 : 1;
