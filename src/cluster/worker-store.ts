/**
 * The store as a worker sees it: the MessageStore contract over the
 * cluster's IPC channel, served by the primary's one store (worker-feeds.ts).
 * Cursors come only from the primary's store, and calls and events share
 * one FIFO channel, so a worker's streams resume as exactly as on one
 * process: the hub already reconciles a read with a feed that lags it.
 *
 * Events are interned by wall and cursor (bounded): the same event read by
 * a thousand reconnecting streams is the same object, so the frame cache and
 * the replay memo encode it once, as they do on one process.
 */
import type { Message, NewMessage } from '../message.js';
import {
  type AppendOptions,
  type EventListener,
  type MessageStore,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  StoreUnavailableError,
  type WallEvent,
  WallLimitError,
  type WallList,
  type WallListQuery,
} from '../store/store.js';
import { type CallFailure, isOurs, type StoreCalls, type StoreOp, type ToPrimary, type ToWorker } from './protocol.js';

/**
 * How long a call waits for the primary. Its store answers in milliseconds
 * (or says it is unavailable on its own deadlines); past this the primary
 * itself is stuck, and the call fails as the store being unavailable.
 */
const CALL_TIMEOUT_MS = 10_000;

/** Bytes of interned events kept (their messages' text, roughly): a replay storm's range, not the history. */
const INTERNED_BYTES = 8 * 1024 * 1024;

/** The IPC channel of a worker process (`process` itself in a cluster worker). */
export interface Channel {
  send(message: ToPrimary): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  op: StoreOp;
}

export class WorkerStore implements MessageStore {
  readonly #listeners = new Set<EventListener>();
  readonly #feedLost = new Set<() => void>();
  readonly #pending = new Map<number, Pending>();
  readonly #interned = new Interned(INTERNED_BYTES);
  #nextId = 0;
  #closed = false;

  constructor(
    private readonly channel: Channel,
    /** The primary store's cursor order (pure: it needs no call). */
    private readonly compare: (a: string, b: string) => number,
  ) {
    channel.on('message', (message) => {
      if (isOurs(message)) this.#receive(message as ToWorker);
    });
  }

  append(message: NewMessage, options?: AppendOptions): Promise<Message> {
    return this.#call('append', [message, options]) as Promise<Message>;
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    const result = (await this.#call('read', [wall, query])) as ReadResult;
    return { ...result, events: result.events.map((event) => this.#interned.intern(wall, event)) };
  }

  readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    return this.#call('readBefore', [wall, query]) as Promise<OlderPage>;
  }

  listWalls(query: WallListQuery): Promise<WallList> {
    return this.#call('listWalls', [query]) as Promise<WallList>;
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    return (await this.#call('delete', [wall, id])) as WallEvent | undefined;
  }

  get(wall: string, id: string): Promise<Message | undefined> {
    return this.#call('get', [wall, id]) as Promise<Message | undefined>;
  }

  findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.#call('findPost', [wall, idempotencyKey]) as Promise<Message | undefined>;
  }

  compareCursors(a: string, b: string): number {
    return this.compare(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#listeners.add(listener);
  }

  onFeedLost(listener: () => void): void {
    this.#feedLost.add(listener);
  }

  /** A scrape of every worker's metrics, joined by the primary. */
  metrics(): Promise<string> {
    return this.#call('metrics', []) as Promise<string>;
  }

  async isReady(): Promise<boolean> {
    return (await this.#call('isReady', []).catch(() => false)) === true;
  }

  /** The primary's store stays open (it closes it when the machine stops); calls still waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [id, pending] of this.#pending) this.#settle(id, pending, new StoreUnavailableError('shutting down'));
  }

  #call<Op extends StoreOp>(op: Op, args: StoreCalls[Op]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('The store is closed.'));
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

  #settle(id: number, pending: Pending, error?: Error, value?: unknown): void {
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(value);
  }

  #receive(message: ToWorker): void {
    switch (message.wc) {
      case 'events': {
        const batch = JSON.parse(message.json) as [string, WallEvent][];
        for (const [wall, parsed] of batch) {
          const event = this.#interned.intern(wall, parsed);
          for (const listener of this.#listeners) listener(wall, event);
        }
        this.channel.send({ wc: 'ack', seq: message.seq });
        return;
      }
      case 'feed-lost':
        for (const listener of this.#feedLost) listener();
        return;
      case 'result':
      case 'failure': {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        if (message.wc === 'result') this.#settle(message.id, pending, undefined, message.value);
        else this.#settle(message.id, pending, errorOf(message.failure));
        return;
      }
      default:
        return;
    }
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

/**
 * Events by wall and cursor, the oldest dropped first past `maxBytes`: the
 * same event, from the feed or from any read, is one object while kept.
 */
class Interned {
  readonly #events = new Map<string, { event: WallEvent; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  intern(wall: string, event: WallEvent): WallEvent {
    const key = `${wall}\n${event.cursor}`;
    const known = this.#events.get(key);
    if (known !== undefined) return known.event;
    const bytes = event.type === 'message' ? 256 + event.message.body.length + event.message.html.length : 64;
    this.#events.set(key, { event, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#events) {
      if (this.#bytes <= this.maxBytes) break;
      this.#events.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    return event;
  }
}
