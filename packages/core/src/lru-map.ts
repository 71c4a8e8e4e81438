/**
 * A map of at most `capacity` entries that drops the least recently used one: `get` and
 * `set` make a key the newest (a Map keeps insertion order, so the first key is the
 * oldest), and a `set` beyond capacity evicts the oldest. For caches whose entries may
 * go stale safely (a revision check on the next write catches a stale one).
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruMap capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, made the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Stores the value as the most recently used, evicting the least recently used beyond capacity. */
  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** The keys, least recently used first, without using them (deleting while iterating is safe). */
  keys(): MapIterator<K> {
    return this.entries.keys();
  }
}
