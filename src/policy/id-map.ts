/** Ids below this live in an array (at most 32 MB of slots); larger ones in a Map. */
const DENSE_LIMIT = 1 << 22;

/**
 * A map from SQLite rowids to objects. Rowids are small and dense, so an array slot replaces a
 * Map lookup — one fewer random memory read per decision (see number-table.ts for why that
 * matters); ids beyond the limit still work, through a Map.
 */
export class IdMap<T> {
  private readonly dense: (T | undefined)[] = [];
  private readonly sparse = new Map<number, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    return isDense(id) ? this.dense[id] : this.sparse.get(id);
  }

  set(id: number, value: T): void {
    if (isDense(id)) {
      if (this.dense[id] === undefined) this.count++;
      this.dense[id] = value;
    } else {
      if (!this.sparse.has(id)) this.count++;
      this.sparse.set(id, value);
    }
  }

  delete(id: number): boolean {
    if (isDense(id)) {
      if (this.dense[id] === undefined) return false;
      this.dense[id] = undefined;
    } else if (!this.sparse.delete(id)) {
      return false;
    }
    this.count--;
    return true;
  }

  *keys(): IterableIterator<number> {
    for (let id = 0; id < this.dense.length; id++) if (this.dense[id] !== undefined) yield id;
    yield* this.sparse.keys();
  }

  *values(): IterableIterator<T> {
    for (const v of this.dense) if (v !== undefined) yield v;
    yield* this.sparse.values();
  }
}

function isDense(id: number): boolean {
  return id >= 0 && id < DENSE_LIMIT && (id | 0) === id;
}
