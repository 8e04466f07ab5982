import { buildSnapshot, type SnapshotIndex } from '../../src/policy/snapshot-builder.js';
import type { LicenseRecord, UserRecord } from '../../src/policy/snapshot-records.js';
import type { InviteFacts, RegisterFacts } from '../../src/policy/request-facts.js';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2025, 0, 1);

export interface GroupSpec extends Partial<Omit<LicenseRecord, 'rootId'>> {
  readonly rootId: number;
  readonly users?: readonly (Partial<Omit<UserRecord, 'rootId' | 'userId'>> & { readonly userId: number })[];
  /** [number, userId], in creation order. */
  readonly numbers?: readonly (readonly [string, number])[];
  /** [instanceId, number, userId], in licensing order. */
  readonly installs?: readonly (readonly [string, string, number])[];
}

export function license(spec: GroupSpec): LicenseRecord {
  return {
    rootId: spec.rootId,
    name: spec.name ?? `group-${spec.rootId}`,
    restrictions: spec.restrictions ?? true,
    virtualNumbers: spec.virtualNumbers ?? 100,
    mobileApps: spec.mobileApps ?? 100,
    validity: spec.validity ?? false,
    validFrom: spec.validFrom ?? null,
    validUntil: spec.validUntil ?? null,
    revision: spec.revision ?? 0,
  };
}

/** A snapshot from a compact description of trees, in the orders the builder wants. */
export function snapshotOf(groups: readonly GroupSpec[]): SnapshotIndex {
  return buildSnapshot({
    licenses: groups.map(license),
    users: groups.flatMap((g) =>
      (g.users ?? []).map((u) => ({
        userId: u.userId,
        login: u.login ?? `user-${u.userId}`,
        rootId: g.rootId,
        personalNumbers: u.personalNumbers ?? null,
        personalApps: u.personalApps ?? null,
      })),
    ),
    numbers: groups.flatMap((g) => (g.numbers ?? []).map(([number, userId]) => ({ number, userId, rootId: g.rootId }))),
    installs: groups.flatMap((g) =>
      (g.installs ?? []).map(([instanceId, number, userId]) => ({ instanceId, number, userId, rootId: g.rootId })),
    ),
  });
}

export function register(identity: string | null, more: Partial<RegisterFacts> = {}): RegisterFacts {
  return { identity, isDeregister: false, isMobileApp: false, installId: null, ...more };
}

export function app(identity: string | null, installId: string | null, more: Partial<RegisterFacts> = {}): RegisterFacts {
  return { identity, isDeregister: false, isMobileApp: true, installId, ...more };
}

export function invite(identity: string | null, callee: string | null, more: Partial<InviteFacts> = {}): InviteFacts {
  return { identity, callee, isMobileApp: false, installId: null, ...more };
}
