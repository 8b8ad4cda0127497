import type { WallEvent } from './store.js';

/**
 * Decoded events by key (SQLite: by seq; a cluster worker: by wall and
 * cursor), the oldest dropped first, bounded in bytes (of their JSON): a
 * replay storm parses each row once, and a wall of long messages cannot
 * make the cache large.
 */
export class EventCache<K = number> {
  readonly #entries = new Map<K, { event: WallEvent; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(seq: K): WallEvent | undefined {
    return this.#entries.get(seq)?.event;
  }

  set(seq: K, event: WallEvent, bytes: number): void {
    this.delete(seq);
    this.#entries.set(seq, { event, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(seq: K): void {
    const entry = this.#entries.get(seq);
    if (entry === undefined) return;
    this.#entries.delete(seq);
    this.#bytes -= entry.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
