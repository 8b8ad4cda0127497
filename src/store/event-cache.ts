import type { WallEvent } from './store.js';

/**
 * Decoded events by seq, the oldest dropped first, bounded in bytes (of
 * their JSON): a replay storm parses each row once, and a wall of long
 * messages cannot make the cache large.
 */
export class EventCache {
  readonly #entries = new Map<number, { event: WallEvent; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(seq: number): WallEvent | undefined {
    return this.#entries.get(seq)?.event;
  }

  set(seq: number, event: WallEvent, bytes: number): void {
    this.delete(seq);
    this.#entries.set(seq, { event, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(seq: number): void {
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
