import { writeFileSync } from 'node:fs';

/**
 * SIPp injection files (`-inf`): a first line naming the order, then one
 * semicolon-separated line per call, read as [field0], [field1] ... in the
 * scenario. Builders below match the layouts documented in each scenario of
 * test/fixtures/sipp.
 */
export type InjectionOrder = 'SEQUENTIAL' | 'RANDOM' | 'USER';

export interface InjectionTable {
  readonly rows: readonly (readonly string[])[];
  readonly order?: InjectionOrder;
}

export function writeInjectionCsv(path: string, table: InjectionTable): void {
  const lines = table.rows.map((row) => {
    for (const field of row) {
      if (/[;\r\n]/.test(field)) throw new Error(`injection field ${JSON.stringify(field)} contains ';' or a line break`);
    }
    return row.join(';');
  });
  writeFileSync(path, `${table.order ?? 'SEQUENTIAL'}\n${lines.join('\n')}\n`);
}

/** One REGISTER of register.xml / deregister.xml. */
export interface RegistrationRow {
  readonly number: string;
  /** host:port written into the Contact (where the registrar will send calls). */
  readonly contact: string;
  /** Expected final status; default 200. */
  readonly expect?: 200 | 403;
  /** Expected X-Sipwarden-Reason when `expect` is 403. */
  readonly reason?: string;
}

/** register.xml, deregister.xml: number;status;reason;contact */
export function registrationRows(rows: readonly RegistrationRow[]): InjectionTable {
  return { rows: rows.map(registrationFields) };
}

function registrationFields(row: RegistrationRow): string[] {
  const expect = row.expect ?? 200;
  if (expect === 403 && !row.reason) throw new Error(`registration of ${row.number}: a 403 expectation needs its reason`);
  return [row.number, String(expect), row.reason ?? '-', row.contact];
}

/** One REGISTER of register-app.xml: the mobile application with RFC 8599 push parameters. */
export interface AppRegistrationRow extends RegistrationRow {
  /** UUID for +sip.instance (RFC 5626), without "urn:uuid:". */
  readonly instance: string;
  readonly pnProvider?: string;
  readonly pnPrid: string;
  readonly pnParam: string;
}

/** register-app.xml: number;status;reason;contact;instance;pn-provider;pn-prid;pn-param */
export function appRegistrationRows(rows: readonly AppRegistrationRow[]): InjectionTable {
  return {
    rows: rows.map((row) => [...registrationFields(row), row.instance, row.pnProvider ?? 'apns', row.pnPrid, row.pnParam]),
  };
}

/** One call of uac-invite.xml, uac-cancel-any-order.xml or invite-expect-403.xml. */
export interface CallRow {
  readonly caller: string;
  readonly callee: string;
  /** invite-expect-403.xml only: the expected X-Sipwarden-Reason. */
  readonly reason?: string;
}

/** caller;callee[;reason] */
export function callRows(rows: readonly CallRow[]): InjectionTable {
  return { rows: rows.map((row) => (row.reason === undefined ? [row.caller, row.callee] : [row.caller, row.callee, row.reason])) };
}
