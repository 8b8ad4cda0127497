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
import { EventCache } from '../store/event-cache.js';
import type {
  AppendOptions,
  EventListener,
  MessageStore,
  OlderPage,
  ReadBeforeQuery,
  ReadQuery,
  ReadResult,
  WallEvent,
  WallList,
  WallListQuery,
} from '../store/store.js';
import type { PrimaryLink } from './primary-link.js';

/** Bytes of interned events kept (their messages' text, roughly): a replay storm's range, not the history. */
const INTERNED_BYTES = 8 * 1024 * 1024;

export class WorkerStore implements MessageStore {
  readonly #listeners = new Set<EventListener>();
  readonly #feedLost = new Set<() => void>();
  readonly #interned = new Interned(INTERNED_BYTES);

  constructor(
    private readonly link: PrimaryLink,
    /** The primary store's cursor order (pure: it needs no call). */
    private readonly compare: (a: string, b: string) => number,
  ) {
    link.listen((message) => {
      if (message.wc === 'events') {
        const batch = JSON.parse(message.json) as [string, WallEvent][];
        for (const [wall, parsed] of batch) {
          const event = this.#interned.intern(wall, parsed);
          for (const listener of this.#listeners) listener(wall, event);
        }
        link.tell({ wc: 'ack', seq: message.seq });
      } else if (message.wc === 'feed-lost') {
        for (const listener of this.#feedLost) listener();
      }
    });
  }

  append(message: NewMessage, options?: AppendOptions): Promise<Message> {
    return this.link.call('append', [message, options]) as Promise<Message>;
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    const result = (await this.link.call('read', [wall, query])) as ReadResult;
    return { ...result, events: result.events.map((event) => this.#interned.intern(wall, event)) };
  }

  readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    return this.link.call('readBefore', [wall, query]) as Promise<OlderPage>;
  }

  listWalls(query: WallListQuery): Promise<WallList> {
    return this.link.call('listWalls', [query]) as Promise<WallList>;
  }

  delete(wall: string, id: string): Promise<WallEvent | undefined> {
    return this.link.call('delete', [wall, id]) as Promise<WallEvent | undefined>;
  }

  get(wall: string, id: string): Promise<Message | undefined> {
    return this.link.call('get', [wall, id]) as Promise<Message | undefined>;
  }

  findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.link.call('findPost', [wall, idempotencyKey]) as Promise<Message | undefined>;
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

  async isReady(): Promise<boolean> {
    return (await this.link.call('isReady', []).catch(() => false)) === true;
  }

  /** The primary's store stays open (it closes it when the machine stops); calls still waiting fail. */
  async close(): Promise<void> {
    this.link.close();
  }
}
/**
 * The one object of each event, by wall and cursor, whether it came from
 * the feed or from a read (the bytes counted are its text's, roughly).
 */
class Interned {
  readonly #events: EventCache<string>;

  constructor(maxBytes: number) {
    this.#events = new EventCache(maxBytes);
  }

  intern(wall: string, event: WallEvent): WallEvent {
    const key = `${wall}\n${event.cursor}`;
    const known = this.#events.get(key);
    if (known !== undefined) return known;
    const bytes = event.type === 'message' ? 256 + event.message.body.length + event.message.html.length : 64;
    this.#events.set(key, event, bytes);
    return event;
  }
}
