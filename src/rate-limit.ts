import type { RateLimit } from './config.js';

/** Clients tracked before expired windows are swept; bounds memory under address churn. */
const SWEEP_AT_CLIENTS = 10_000;

/**
 * Fixed-window post counter per client key. `take` answers 0 when the post
 * may go ahead, or the seconds until the client's window reopens.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { count: number; resetAtMs: number }>();

  constructor(readonly limit: RateLimit) {}

  take(key: string, nowMs = Date.now()): number {
    if (this.#windows.size >= SWEEP_AT_CLIENTS) this.#sweep(nowMs);
    let window = this.#windows.get(key);
    if (window === undefined || window.resetAtMs <= nowMs) {
      window = { count: 0, resetAtMs: nowMs + this.limit.perMs };
      this.#windows.set(key, window);
    }
    if (window.count >= this.limit.posts) return Math.max(1, Math.ceil((window.resetAtMs - nowMs) / 1000));
    window.count++;
    return 0;
  }

  #sweep(nowMs: number): void {
    for (const [key, window] of this.#windows) if (window.resetAtMs <= nowMs) this.#windows.delete(key);
  }
}
