export type { Allow, AllowBasis, Decision, DecisionDetails, Deny } from './decision.js';
export { REASON_CODES, isReasonCode, type ReasonCode } from './reason-code.js';
export { REASONS, type ReasonEntry } from './reason-table.js';
export {
  DEFAULT_POLICY_OPTIONS,
  type InviteFacts,
  type PolicyOptions,
  type RegisterFacts,
} from './request-facts.js';
export type { GroupLicense, InstallEntry, LicenseSnapshot, NumberEntry, UserLicense } from './snapshot.js';
export type {
  GroupRecords,
  InstallRecord,
  LicenseRecord,
  NumberRecord,
  SnapshotRecords,
  UserRecord,
} from './snapshot-records.js';
export {
  SnapshotBuilder,
  SnapshotIndex,
  buildSnapshot,
  type SnapshotStats,
  type StaleGroups,
} from './snapshot-builder.js';
export { isWindowClosed, windowState, type WindowState } from './window.js';
export { evaluateRegister } from './evaluate-register.js';
export { evaluateInvite } from './evaluate-invite.js';
