/**
 * Requests waiting for a wall's next event without a stream: the
 * Tornado-compat long poll (routes/compat.ts). Woken by the store's live
 * feed, beside the hub (server.ts), and all at once when the server drains.
 */
export interface LongPoll {
  /** Resolves at the wall's next event, at `timeoutMs`, when `signal` aborts, or when the server drains. */
  readonly woken: Promise<void>;
  /** Stops waiting (the answer was found without waking). */
  cancel(): void;
}

export class LongPolls {
  readonly #waiting = new Map<string, Set<() => void>>();

  /**
   * Starts waiting for `wall`'s next event. Call it *before* reading what is
   * there: an event stored between the read and the wait still wakes it.
   */
  wait(wall: string, timeoutMs: number, signal: AbortSignal): LongPoll {
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const waiters = this.#waiting.get(wall) ?? new Set();
    this.#waiting.set(wall, waiters);
    waiters.add(wake);
    const timer = setTimeout(wake, timeoutMs);
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort, { once: true });
    const cancel = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      waiters.delete(wake);
      if (waiters.size === 0 && this.#waiting.get(wall) === waiters) this.#waiting.delete(wall);
    };
    return { woken: woken.then(cancel), cancel };
  }

  /** The store's live feed: an event of `wall` wakes everyone waiting for it. */
  wake(wall: string): void {
    const waiters = this.#waiting.get(wall);
    if (waiters === undefined) return;
    this.#waiting.delete(wall);
    for (const wake of waiters) wake();
  }

  /** Wakes every long poll (the server drains: each answers now). */
  wakeAll(): void {
    for (const wall of [...this.#waiting.keys()]) this.wake(wall);
  }
}
