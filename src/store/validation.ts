import { fail, type Failure } from './outcome.js';

/** A licence limit: a non-negative safe integer. */
export function checkLimit(field: string, value: number): Failure | null {
  if (!Number.isSafeInteger(value) || value < 0) {
    return fail('invalid', field, `${String(value)} is not a valid limit; expected a non-negative integer`).failure;
  }
  return null;
}

/** A nullable cap (personal licenses): null means "no personal cap". */
export function checkOptionalLimit(field: string, value: number | null): Failure | null {
  return value === null ? null : checkLimit(field, value);
}

export function checkTime(field: string, value: number | null): Failure | null {
  if (value !== null && !Number.isSafeInteger(value)) {
    return fail('invalid', field, `${String(value)} is not a valid time; expected milliseconds since the epoch`).failure;
  }
  return null;
}

const GROUP_NAME = /^[^\s\p{Cc}](?:[^\p{Cc}]{0,98}[^\s\p{Cc}])?$/u;
/** Logins and operator names: safe in shells, logs and SIP headers. */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/**
 * A virtual number is the user part of a SIP AOR (RFC 3261 §19.1.1): we accept the plain subset
 * intercom servers assign — letters, digits, `.`, `_`, `-`, an optional leading `+` (E.164).
 */
const NUMBER = /^\+?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkGroupName(field: string, name: string): Failure | null {
  if (!GROUP_NAME.test(name)) {
    return fail(
      'invalid',
      field,
      `'${name}' is not a valid group name; expected 1 to 100 characters without control characters or surrounding spaces`,
    ).failure;
  }
  return null;
}

export function checkLogin(field: string, login: string): Failure | null {
  if (!LOGIN.test(login)) {
    return fail(
      'invalid',
      field,
      `'${login}' is not a valid name; expected 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
    ).failure;
  }
  return null;
}

export function checkNumber(field: string, number: string): Failure | null {
  if (!NUMBER.test(number)) {
    return fail(
      'invalid',
      field,
      `'${number}' is not a valid virtual number; expected the user part of a SIP address: 1 to 64 letters, digits, '.', '_' or '-', optionally after a leading '+'`,
    ).failure;
  }
  return null;
}

export function firstFailure(...checks: (Failure | null)[]): Failure | null {
  for (const c of checks) if (c) return c;
  return null;
}
