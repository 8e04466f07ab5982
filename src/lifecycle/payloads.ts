import type { LicenseSection } from '../policy/license-section.js';
import type { WindowState } from '../policy/window.js';
import { formatIsoUtc, formatIsoUtcOrNull } from '../shared/iso-time.js';
import type { EventSource, LifecycleEventType } from './event-type.js';

/** One mobile-app install and the RFC 8599 push parameters that reach it. */
export interface InstallPush {
  readonly instanceId: string;
  readonly number: string;
  readonly user: string;
  /** False for an install whose REGISTER was refused (e.g. while the licence was expired). */
  readonly licensed: boolean;
  readonly pnProvider: string | null;
  readonly pnPrid: string | null;
  readonly pnParam: string | null;
}

export interface EventInput {
  readonly type: LifecycleEventType;
  readonly group: string;
  /** When the transition happened (the bound crossed, the reminder time, the operator's change). */
  readonly occurredAt: number;
  /** When the event was written. */
  readonly createdAt: number;
  readonly source: EventSource;
  readonly operator: string | null;
  readonly previousState: WindowState | null;
  readonly state: WindowState;
  readonly license: LicenseSection;
  /** The settings before an operator's change, and the names of those that changed (license.limits-changed). */
  readonly before?: LicenseSection;
  readonly changed?: readonly string[];
  /** Every app install of the group (renewed, activated, expired, expiring). */
  readonly installs?: readonly InstallPush[];
}

export interface BuiltEvent {
  /** The idempotency key: receivers drop an id they have already handled. */
  readonly eventId: string;
  /** The exact JSON body that is stored, signed and sent. */
  readonly body: string;
}

function licenseJson(l: LicenseSection) {
  return {
    restrictions: l.restrictions,
    virtualNumbers: l.virtualNumbers,
    mobileApps: l.mobileApps,
    validity: l.validity,
    validFrom: formatIsoUtcOrNull(l.validFrom),
    validUntil: formatIsoUtcOrNull(l.validUntil),
    remindDays: l.remindDays,
    remindRepeat: l.remindRepeat,
  };
}

/** RFC 8599 §4: the parameter names as they appear in the Contact URI. */
function installJson(i: InstallPush) {
  return {
    instanceId: i.instanceId,
    number: i.number,
    user: i.user,
    licensed: i.licensed,
    push: { 'pn-provider': i.pnProvider, 'pn-prid': i.pnPrid, 'pn-param': i.pnParam },
  };
}

/**
 * The webhook body of one event (README "Push notifications"). Built once, when the event is
 * written, so every delivery attempt sends (and signs) the same bytes. `newId` makes the event id
 * (the store passes `randomUUID`), so this stays free of I/O.
 */
export function buildEvent(input: EventInput, newId: () => string): BuiltEvent {
  const eventId = newId();
  const body: Record<string, unknown> = {
    id: eventId,
    type: input.type,
    rootGroup: input.group,
    occurredAt: formatIsoUtc(input.occurredAt),
    createdAt: formatIsoUtc(input.createdAt),
    source: input.source,
    operator: input.operator,
    window: { previousState: input.previousState, state: input.state },
    license: licenseJson(input.license),
  };
  if (input.type === 'license.expiring' && input.license.validUntil !== null) {
    body.reminder = {
      validUntil: formatIsoUtc(input.license.validUntil),
      msLeft: Math.max(0, input.license.validUntil - input.createdAt),
      remindDays: input.license.remindDays,
      repeat: input.license.remindRepeat,
    };
  }
  if (input.before) body.before = licenseJson(input.before);
  if (input.changed) body.changed = input.changed;
  if (input.installs) body.installs = input.installs.map(installJson);
  return { eventId, body: JSON.stringify(body) };
}
