/**
 * A worker's line to its primary (primary.ts): calls answered in order on
 * the cluster's one FIFO channel, and the primary's pushes (event batches,
 * presence views, feed loss, drain) handed to whoever listens. The store,
 * the tickets and presence of a worker all go through it.
 */

import { StoreUnavailableError, WallLimitError } from '../store/store.js';
import type { CallFailure, Calls, Op, ToPrimary, ToWorker } from './protocol.js';
import { isOurs } from './protocol.js';

/**
 * How long a call waits for the primary. Its store answers in milliseconds
 * (or says it is unavailable on its own deadlines); past this the primary
 * itself is stuck, and the call fails as the store being unavailable.
 */
const CALL_TIMEOUT_MS = 10_000;

/** The IPC channel of a worker process (`process` itself in a cluster worker). */
export interface Channel {
  send(message: ToPrimary): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  op: Op;
}

type Push = Exclude<ToWorker, { wc: 'result' } | { wc: 'failure' }>;

export class PrimaryLink {
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(message: Push) => void>();
  #nextId = 0;
  #closed = false;

  constructor(private readonly channel: Channel) {
    channel.on('message', (message) => {
      if (isOurs(message)) this.#receive(message as ToWorker);
    });
  }

  /** Calls the primary; rejects with the store's own errors, or as unavailable when it does not answer in time. */
  call<O extends Op>(op: O, args: Calls[O]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('The worker is shutting down.'));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        // A write that was sent may have been done: only an idempotent retry is safe.
        const uncertain = op === 'append' || op === 'delete';
        this.#settle(id, pending, new StoreUnavailableError('The store did not answer in time.', { uncertain }));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer, op });
      this.channel.send({ wc: 'call', id, op, args });
    });
  }

  /** Sends a message that needs no answer. */
  tell(message: ToPrimary): void {
    this.channel.send(message);
  }

  /** Hears the primary's pushes. */
  listen(listener: (message: Push) => void): void {
    this.#listeners.add(listener);
  }

  /** Calls still waiting fail; none are made from now on. */
  close(): void {
    this.#closed = true;
    for (const [id, pending] of this.#pending) this.#settle(id, pending, new StoreUnavailableError('shutting down'));
  }

  #settle(id: number, pending: Pending, error?: Error, value?: unknown): void {
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(value);
  }

  #receive(message: ToWorker): void {
    if (message.wc === 'result' || message.wc === 'failure') {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      if (message.wc === 'result') this.#settle(message.id, pending, undefined, message.value);
      else this.#settle(message.id, pending, errorOf(message.failure));
      return;
    }
    for (const listener of this.#listeners) listener(message);
  }
}

function errorOf(failure: CallFailure): Error {
  switch (failure.kind) {
    case 'unavailable':
      return new StoreUnavailableError(failure.message, {
        retryAfterSeconds: failure.retryAfterSeconds,
        uncertain: failure.uncertain,
      });
    case 'wall-limit':
      return new WallLimitError(failure.maxWalls);
    default:
      return new Error(failure.message);
  }
}
