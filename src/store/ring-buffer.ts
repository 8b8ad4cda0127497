/**
 * A fixed-capacity FIFO: pushing onto a full buffer evicts the oldest item.
 * The seed's `MessageBuffer` cache, with O(1) push and O(1) access by index.
 */
export class RingBuffer<T> {
  /** Grows up to `capacity`, then wraps: an idle wall costs what it holds, not its capacity. */
  readonly #items: (T | undefined)[] = [];
  #start = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('RingBuffer capacity must be a positive integer');
    }
  }

  get length(): number {
    return this.#length;
  }

  /** Appends `item`; returns the item it evicted, if the buffer was full. */
  push(item: T): T | undefined {
    if (this.#length < this.capacity) {
      const slot = (this.#start + this.#length) % this.capacity;
      // The array grows only while no slot has been freed before its end.
      if (slot === this.#items.length) this.#items.push(item);
      else this.#items[slot] = item;
      this.#length++;
      return undefined;
    }
    const evicted = this.#items[this.#start];
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
    return evicted;
  }

  /** Removes and returns the oldest item (trimming by something other than count). */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const oldest = this.#items[this.#start];
    this.#items[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.capacity;
    this.#length--;
    return oldest;
  }

  /** The item `index` places from the oldest (0 = oldest). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#start + index) % this.capacity];
  }

  /** Items from `from` (inclusive) to `to` (exclusive), oldest first, clamped. */
  slice(from = 0, to = this.#length): T[] {
    const end = Math.min(to, this.#length);
    const out: T[] = [];
    for (let i = Math.max(0, from); i < end; i++) out.push(this.#items[(this.#start + i) % this.capacity] as T);
    return out;
  }
}
