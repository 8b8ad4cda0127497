import type { Logger } from 'pino';

/** How often evictions are summed up in the log. */
const SUMMARY_MS = 10_000;

/**
 * Slow-client evictions, summed into one log line per interval (with the
 * walls they came from) instead of a line per client: a wall with thousands
 * of readers on a bad network would otherwise flood the log.
 */
export class EvictionLog {
  #byWall = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  record(wall: string): void {
    this.#byWall.set(wall, (this.#byWall.get(wall) ?? 0) + 1);
    this.#timer ??= setTimeout(() => this.flush(), SUMMARY_MS).unref();
  }

  /** Writes what was recorded since the last line (also at shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#byWall.size === 0) return;
    const walls = Object.fromEntries(this.#byWall);
    const evicted = [...this.#byWall.values()].reduce((sum, n) => sum + n, 0);
    this.#byWall = new Map();
    this.log.info({ evicted, walls }, 'slow clients disconnected (they resume from their cursors)');
  }
}
