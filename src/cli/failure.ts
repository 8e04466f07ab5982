import type { Failure, Outcome } from '../store/outcome.js';
import { BadInputError, LimitRefusedError, type CliError } from './errors.js';

/** Store field names as the operator typed them (flags and arguments of the command). */
export type FieldLabels = Readonly<Record<string, string>>;

export function failureError(failure: Failure, labels: FieldLabels = {}): CliError {
  const field = labels[failure.field] ?? failure.field;
  const message = `${field}: ${failure.message}`;
  return failure.kind === 'limit' ? new LimitRefusedError(message) : new BadInputError(message);
}

/** The value of a successful outcome; a failure becomes the CLI error with its exit code. */
export function unwrap<T>(outcome: Outcome<T>, labels: FieldLabels = {}): T {
  if (!outcome.ok) throw failureError(outcome.failure, labels);
  return outcome.value;
}
