import { type Message, type NewMessage, withCursor } from '../message.js';
import { RingBuffer } from '../ring-buffer.js';
import { EpochCursors } from './epoch-cursor.js';
import { LiveFeed } from './live-feed.js';
import type { EventListener, MessageStore, ReadQuery, ReadResult, ResetReason, WallEvent } from './store.js';

type MessageEvent = Extract<WallEvent, { type: 'message' }>;

interface WallLog {
  /** Seq of the newest event; 0 while the wall has none. */
  seq: number;
  events: RingBuffer<WallEvent>;
  byId: Map<string, MessageEvent>;
  /** Deleted messages still in the ring: skipped by reads, so seqs stay dense. */
  removed: Set<WallEvent>;
}

/**
 * Keeps each wall's newest events in a ring buffer, in this process only.
 * Cursors are `{epoch}-{seq}` with seq counting a wall's events from 1,
 * densely, so the position of a cursor is one subtraction. The epoch is new
 * at every start: cursors from before a restart are answered with a reset,
 * as their events are gone.
 */
export class MemoryStore implements MessageStore {
  readonly #cursors = new EpochCursors(
    (Date.now().toString(36) + Math.floor(Math.random() * 36 ** 4).toString(36)).slice(-12),
    '[0-9a-z]{1,16}',
  );
  readonly #walls = new Map<string, WallLog>();
  readonly #feed = new LiveFeed();

  constructor(readonly historySize: number) {}

  async append(draft: NewMessage): Promise<Message> {
    const log = this.#log(draft.wall);
    const message = withCursor(draft, this.#cursors.format(log.seq + 1));
    const event: MessageEvent = { type: 'message', cursor: message.cursor, message };
    log.byId.set(message.id, event);
    this.#push(draft.wall, log, event);
    return message;
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    const log = this.#walls.get(wall);
    const target = log?.byId.get(id);
    if (log === undefined || target === undefined) return undefined;
    log.byId.delete(id);
    log.removed.add(target);
    const event: WallEvent = { type: 'delete', cursor: this.#cursors.format(log.seq + 1), id };
    this.#push(wall, log, event);
    return event;
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    const log = this.#walls.get(wall);
    const headSeq = log?.seq ?? 0;
    const length = log?.events.length ?? 0;
    const firstSeq = headSeq - length + 1;
    const head = this.#cursors.format(headSeq);
    let reset: ResetReason | undefined;
    if (query.after !== undefined) {
      const position = this.#cursors.position(query.after, firstSeq - 1, headSeq);
      if (typeof position === 'number') {
        const events = log === undefined ? [] : forward(log, position - firstSeq + 1, query.limit);
        return { events, head, start: query.after };
      }
      reset = position.reset;
    }
    const events = log === undefined ? [] : newestMessages(log, query.limit);
    const start = events[0] === undefined ? head : this.#cursors.before(events[0].cursor);
    return reset === undefined ? { events, head, start } : { events, head, start, reset };
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    return this.#walls.get(wall)?.byId.get(id)?.message;
  }

  compareCursors(a: string, b: string): number {
    return this.#cursors.compare(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#feed.add(listener);
  }

  async isReady(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.#feed.clear();
  }

  #log(wall: string): WallLog {
    let log = this.#walls.get(wall);
    if (log === undefined) {
      log = { seq: 0, events: new RingBuffer(this.historySize), byId: new Map(), removed: new Set() };
      this.#walls.set(wall, log);
    }
    return log;
  }

  #push(wall: string, log: WallLog, event: WallEvent): void {
    log.seq++;
    const evicted = log.events.push(event);
    if (evicted !== undefined) {
      log.removed.delete(evicted);
      if (evicted.type === 'message' && log.byId.get(evicted.message.id) === evicted)
        log.byId.delete(evicted.message.id);
    }
    this.#feed.emit(wall, event);
  }
}

/** Up to `limit` events from ring index `from` on, skipping deleted messages. */
function forward(log: WallLog, from: number, limit: number): WallEvent[] {
  const events: WallEvent[] = [];
  for (let i = from; i < log.events.length && events.length < limit; i++) {
    const event = log.events.at(i) as WallEvent;
    if (!log.removed.has(event)) events.push(event);
  }
  return events;
}

/** Walks back from the newest event: a fresh reader costs `limit`, not the history. */
function newestMessages(log: WallLog, limit: number): WallEvent[] {
  const newest: WallEvent[] = [];
  for (let i = log.events.length - 1; i >= 0 && newest.length < limit; i--) {
    const event = log.events.at(i) as WallEvent;
    if (event.type === 'message' && !log.removed.has(event)) newest.push(event);
  }
  return newest.reverse();
}
