/**
 * Which numbers registered through which client flow (issue 9, item 2). A call the SIP server
 * relays to a client comes back through the sidecar by the flow token of the client's Path, so
 * the sidecar knows the flow it goes to; the numbers registered on that flow are who the call is
 * for, whatever the caller wrote into To. Bounded: the flows seen longest ago are forgotten first
 * (a forgotten flow leaves the callee to be read from To alone).
 */
export class RegisteredFlows {
  readonly #numbers = new Map<string, readonly string[]>();
  readonly #maxFlows: number;

  /** `maxFlows`: how many flows are remembered; `perFlow`: numbers kept per flow (lines of one phone). */
  constructor(maxFlows = 200_000, private readonly perFlow = 8) {
    this.#maxFlows = maxFlows;
  }

  /** A REGISTER of `number` passed from `flow` (its `flowText`). */
  registered(flow: string, number: string): void {
    const known = this.#numbers.get(flow);
    if (known !== undefined && known[known.length - 1] === number) return;
    const others = known === undefined ? [] : known.filter((n) => n !== number);
    this.#numbers.delete(flow);
    this.#numbers.set(flow, [...others.slice(-(this.perFlow - 1)), number]);
    if (this.#numbers.size > this.#maxFlows) {
      const oldest = this.#numbers.keys().next().value;
      if (oldest !== undefined) this.#numbers.delete(oldest);
    }
  }

  /** A de-REGISTER of `number` passed from `flow`. */
  deregistered(flow: string, number: string): void {
    const known = this.#numbers.get(flow);
    if (known === undefined) return;
    const left = known.filter((n) => n !== number);
    if (left.length === 0) this.#numbers.delete(flow);
    else this.#numbers.set(flow, left);
  }

  /** The numbers registered on `flow`, oldest first; empty when none is known. */
  numbers(flow: string): readonly string[] {
    return this.#numbers.get(flow) ?? NONE;
  }
}

const NONE: readonly string[] = Object.freeze([]);
