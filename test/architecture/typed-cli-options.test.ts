import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo-root.js';

/*
 * The CLI's option types come from the option definitions (commander's chain, typed by
 * @commander-js/extra-typings), not from interfaces written beside them. So a definition that
 * changes while an action still reads the old option must not compile. Each case edits one
 * definition in memory (the action untouched) and type-checks the CLI as `npm run typecheck` does.
 * With hand-written option interfaces every edited tree would still compile.
 */

interface Edit {
  readonly name: string;
  /** The file whose definition changes, relative to the repository. */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** Where the stale read must be reported, and how. */
  readonly errorIn: string;
  readonly error: RegExp;
}

const EDITS: readonly Edit[] = [
  {
    name: "an option renamed in its definition (group add --parent) no longer compiles where it is read",
    file: 'src/cli/commands/group.ts',
    from: ".option('--parent <group>',",
    to: ".option('--parent-group <group>',",
    errorIn: 'src/cli/commands/group.ts',
    error: /Property 'parent' does not exist on type '\{ parentGroup\?: string \| undefined; \}'/,
  },
  {
    name: "an option of a derived type (licenses set's changeFrom) follows its definition",
    file: 'src/cli/commands/licenses.ts',
    from: ".option('--remind-days <n|none>',",
    to: ".option('--remind <n|none>',",
    errorIn: 'src/cli/commands/licenses.ts',
    error: /Property 'remindDays' does not exist on type/,
  },
  {
    name: 'an option without its parser (check --at) is a string, not the number the policy takes',
    file: 'src/cli/commands/check.ts',
    from: "'decide at this time instead of now (ISO 8601)', parseTime)",
    to: "'decide at this time instead of now (ISO 8601)')",
    errorIn: 'src/cli/commands/check.ts',
    error: /Argument of type 'string \| number' is not assignable to parameter of type 'number'/,
  },
  {
    name: 'a global option renamed in the root command (--db) no longer compiles where commands read it',
    file: 'src/cli/root-command.ts',
    from: "new Option('--db <path>',",
    to: "new Option('--database <path>',",
    errorIn: 'src/cli/session.ts',
    error: /Property 'db' does not exist on type/,
  },
];

const ROOT_FILE = join(REPO_ROOT, 'src/cli/program.ts');
const TIMEOUT_MS = 180_000;

const config = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  },
});
if (config === undefined) throw new Error('tsconfig.json could not be read');
const options = { ...config.options, noEmit: true };

let unedited: ts.Program;

/** The CLI compiled with `replaced` (absolute path → text) instead of the files on disk. */
function compile(replaced: ReadonlyMap<string, string>, old?: ts.Program): ts.Program {
  const host = ts.createCompilerHost(options, true);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => replaced.get(file) ?? readFile(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    const text = replaced.get(file);
    return text === undefined ? getSourceFile(file, language, onError, create) : ts.createSourceFile(file, text, language, true);
  };
  return ts.createProgram({ rootNames: [ROOT_FILE], options, host, ...(old === undefined ? {} : { oldProgram: old }) });
}

/** tsc's messages for one file, as `line:col message`. */
function errorsIn(program: ts.Program, file: string): string[] {
  const source = program.getSourceFile(join(REPO_ROOT, file));
  if (source === undefined) throw new Error(`${file} is not part of the CLI program`);
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const { line, character } = source.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${line + 1}:${character + 1} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('CLI option types are inferred from their definitions', () => {
  beforeAll(() => {
    unedited = compile(new Map());
  }, TIMEOUT_MS);

  it('the unedited CLI compiles (the cases below fail for their edit only)', { timeout: TIMEOUT_MS }, () => {
    for (const file of new Set(EDITS.flatMap((e) => [e.file, e.errorIn]))) expect(errorsIn(unedited, file)).toEqual([]);
  });

  for (const edit of EDITS) {
    it(edit.name, { timeout: TIMEOUT_MS }, () => {
      const path = join(REPO_ROOT, edit.file);
      const text = readFileSync(path, 'utf8');
      expect(text.split(edit.from)).toHaveLength(2);
      const errors = errorsIn(compile(new Map([[path, text.replace(edit.from, edit.to)]]), unedited), edit.errorIn);
      expect(errors.some((e) => edit.error.test(e)), errors.join('\n') || 'no error').toBe(true);
    });
  }
});
