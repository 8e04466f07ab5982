import { writeLatin1 } from './latin1.js';

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Builds a changed copy of a message by splicing bytes: untouched headers are copied as they
 * are, never parsed and re-serialised. Edits are given against the original offsets, must not
 * overlap, and edits at the same offset are applied in the order they were made. Inserted text is
 * written as latin1, so text read from the message (also read as latin1) round-trips byte for byte.
 */
export class MessageEditor {
  readonly #source: Buffer;
  readonly #edits: Edit[] = [];

  constructor(source: Buffer) {
    this.#source = source;
  }

  insert(at: number, text: string): this {
    return this.replace(at, at, text);
  }

  remove(start: number, end: number): this {
    return this.replace(start, end, '');
  }

  replace(start: number, end: number, text: string): this {
    if (start < 0 || end < start || end > this.#source.length) {
      throw new RangeError(`edit [${start}, ${end}) outside the message`);
    }
    this.#edits.push({ start, end, text });
    return this;
  }

  get size(): number {
    return this.#edits.length;
  }

  toBuffer(): Buffer {
    const edits = this.#edits;
    sortByStart(edits);
    let length = this.#source.length;
    for (const e of edits) length += e.text.length - (e.end - e.start);
    const out = Buffer.allocUnsafe(length);
    let cursor = 0;
    let at = 0;
    for (const e of edits) {
      if (e.start < cursor) throw new RangeError(`overlapping edits at ${e.start}`);
      at += this.#source.copy(out, at, cursor, e.start);
      if (e.text.length > 0) at += writeLatin1(out, e.text, at);
      cursor = e.end;
    }
    this.#source.copy(out, at, cursor);
    return out;
  }
}

/** Insertion sort: stable (same-offset edits keep their order) and fastest for the handful a message gets. */
function sortByStart(edits: Edit[]): void {
  for (let i = 1; i < edits.length; i++) {
    const edit = edits[i];
    if (edit === undefined) continue;
    let j = i - 1;
    while (j >= 0 && (edits[j]?.start ?? 0) > edit.start) {
      edits[j + 1] = edits[j] as Edit;
      j--;
    }
    edits[j + 1] = edit;
  }
}
