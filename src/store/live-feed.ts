import type { EventListener, WallEvent } from './store.js';

/**
 * The `onEvent` listeners of one store. Every store feeds its events
 * through one of these, so "exactly once, in cursor order per wall" is
 * kept in one loop.
 */
export class LiveFeed {
  readonly #listeners: EventListener[] = [];

  add(listener: EventListener): void {
    this.#listeners.push(listener);
  }

  emit(wall: string, event: WallEvent): void {
    for (const listener of this.#listeners) listener(wall, event);
  }

  clear(): void {
    this.#listeners.length = 0;
  }
}
