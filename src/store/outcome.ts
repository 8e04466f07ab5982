/**
 * Expected refusals of a store operation, as values (STYLE.md: expected outcomes are not
 * exceptions). The CLI maps `kind` to its exit code: `limit` → 4, everything else → 2.
 */
export type FailureKind =
  /** A value is malformed or breaks an invariant (negative limit, apps above numbers …). */
  | 'invalid'
  /** A named group, user, number, install or operator does not exist. */
  | 'not-found'
  /** A name is taken, or the target is still in use (a group with users …). */
  | 'conflict'
  /** A licence limit refuses the write. */
  | 'limit';

export interface Failure {
  readonly kind: FailureKind;
  /** The field at fault in product terms (`virtualNumbers`, `login`, `group` …). */
  readonly field: string;
  /** What is wrong and what is expected, as one sentence for an operator. */
  readonly message: string;
}

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: Failure };

export function succeed<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail(kind: FailureKind, field: string, message: string): { ok: false; failure: Failure } {
  return { ok: false, failure: { kind, field, message } };
}
