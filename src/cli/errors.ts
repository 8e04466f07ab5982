/**
 * The CLI's exit codes and the small error hierarchy that carries them to the one top-level
 * catch (see run.ts), which prints `sipwarden: <message>` on one line.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected: a bug, a locked or corrupt database. */
  failure: 1,
  /** Bad input: a malformed value, an unknown name, a broken invariant, a usage error. */
  badInput: 2,
  /** No or an invalid token, or a missing permission. */
  notPermitted: 3,
  /** A licence limit refuses the change. */
  limit: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadInputError extends CliError {
  constructor(message: string) {
    super(message, EXIT.badInput);
  }
}

export class NotPermittedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.notPermitted);
  }
}

export class LimitRefusedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.limit);
  }
}
