/** Who makes a change and when: every change is audited with both (DESIGN.md §1). */
export interface ChangeContext {
  readonly now: number;
  /** Operator name; null for changes made by the daemon itself. */
  readonly operator: string | null;
}
