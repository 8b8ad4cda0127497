import { type Message, type NewMessage, withCursor } from '../message.js';
import { EpochCursors } from './epoch-cursor.js';
import { LiveFeed } from './live-feed.js';
import { takePage } from './page.js';
import { RingBuffer } from './ring-buffer.js';
import {
  type AppendOptions,
  type EventListener,
  eventBytes,
  IDEMPOTENCY_TTL_MS,
  listedBefore,
  MAX_WALLS_LISTED,
  type MessageStore,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  retentionSweepMs,
  type StoreLimits,
  type WallEvent,
  WallLimitError,
  type WallList,
  type WallListPosition,
  type WallListQuery,
  wallListAfter,
  wallListPage,
} from './store.js';

interface Entry {
  readonly event: WallEvent;
  readonly bytes: number;
  readonly atMs: number;
  /** The idempotency key the message was posted with, if any. */
  readonly key?: string;
}

interface WallLog {
  /** Seq of the newest event; 0 while the wall has none. Never goes back, even when the wall empties. */
  seq: number;
  entries: RingBuffer<Entry>;
  /** Bytes of the entries kept, deleted ones excluded. */
  bytes: number;
  byId: Map<string, Entry>;
  /** Idempotency key → the message posted with it, while it is in the ring. */
  byKey: Map<string, Entry>;
  /** Deleted messages still in the ring: skipped by reads, so seqs stay dense. */
  removed: Set<Entry>;
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
  #wallsWithHistory = 0;
  readonly #feed = new LiveFeed();
  readonly #retentionSweep: NodeJS.Timeout | undefined;

  constructor(readonly limits: StoreLimits) {
    if (limits.retentionMs !== undefined) {
      this.#retentionSweep = setInterval(() => this.#expire(Date.now()), retentionSweepMs(limits.retentionMs));
      this.#retentionSweep.unref();
    }
  }

  async append(draft: NewMessage, options: AppendOptions = {}): Promise<Message> {
    const nowMs = Date.now();
    const key = options.idempotencyKey;
    const known = this.#walls.get(draft.wall);
    const first = key === undefined ? undefined : this.#posted(known, key, nowMs);
    if (first !== undefined) return first;
    if ((known === undefined || known.entries.length === 0) && this.#wallsWithHistory >= this.limits.maxWalls) {
      throw new WallLimitError(this.limits.maxWalls);
    }
    const log = known ?? this.#log(draft.wall);
    const message = withCursor(draft, this.#cursors.format(log.seq + 1));
    const entry = this.#push(log, { type: 'message', cursor: message.cursor, message }, nowMs, key);
    log.byId.set(message.id, entry);
    if (key !== undefined) log.byKey.set(key, entry);
    this.#feed.emit(draft.wall, entry.event);
    return message;
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    const log = this.#walls.get(wall);
    const target = log?.byId.get(id);
    if (log === undefined || target === undefined) return undefined;
    log.byId.delete(id);
    if (target.key !== undefined && log.byKey.get(target.key) === target) log.byKey.delete(target.key);
    log.removed.add(target);
    log.bytes -= target.bytes;
    const entry = this.#push(log, { type: 'delete', cursor: this.#cursors.format(log.seq + 1), id }, Date.now());
    this.#feed.emit(wall, entry.event);
    return entry.event;
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    const log = this.#walls.get(wall);
    const { head, oldest, newest } = this.#span(log);
    let reset: ResetReason | undefined;
    if (query.after !== undefined) {
      const position = this.#cursors.position(query.after, oldest, newest);
      if (typeof position === 'number') {
        const events = log === undefined ? [] : page(forward(log, position - oldest), query).items;
        return { events: events.map((entry) => entry.event), head, start: query.after };
      }
      reset = position.reset;
    }
    const events = this.#newest(log, query).messages.map((message) => message.event);
    const start = events[0] === undefined ? head : this.#cursors.before(events[0].cursor);
    return reset === undefined ? { events, head, start } : { events, head, start, reset };
  }

  async readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    const log = this.#walls.get(wall);
    const { oldest, newest } = this.#span(log);
    const position = this.#cursors.position(query.before, oldest, newest);
    if (typeof position === 'number') {
      // The event at seq s is at ring index s - oldest - 1: start from the one before `before`.
      const older = log === undefined ? { messages: [], more: false } : backward(log, position - oldest - 2, query);
      return { messages: older.messages.map(messageOf), more: older.more };
    }
    if (position.reset === 'trimmed') return { messages: [], more: false, reset: 'trimmed' };
    const fresh = this.#newest(log, query);
    return { messages: fresh.messages.map(messageOf), more: fresh.more, reset: position.reset };
  }

  /**
   * One pass over the walls, keeping the best `limit`: posts stay O(1)
   * (no order kept on every append), and a listing is rare beside them and
   * costs microseconds per wall (this store holds one process's walls).
   */
  async listWalls(query: WallListQuery): Promise<WallList> {
    const after = wallListAfter(query.after);
    const limit = Math.min(query.limit, MAX_WALLS_LISTED);
    // The best limit + 1, newest first: the extra one says whether a page follows.
    const best: (WallListPosition & { log: WallLog })[] = [];
    for (const [wall, log] of this.#walls) {
      const newest = log.entries.at(log.entries.length - 1);
      if (newest === undefined) continue;
      const candidate = { atMs: newest.atMs, wall, log };
      if (after !== undefined && !listedBefore(after, candidate)) continue;
      const worst = best[limit];
      if (worst !== undefined && !listedBefore(candidate, worst)) continue;
      let i = best.length;
      while (i > 0 && listedBefore(candidate, best[i - 1]!)) i--;
      best.splice(i, 0, candidate);
      if (best.length > limit + 1) best.pop();
    }
    return wallListPage(best, limit, ({ log }) => this.#cursors.format(log.seq));
  }

  /** A wall's head, and the seqs a cursor may name: from just before its oldest event kept up to its newest. */
  #span(log: WallLog | undefined): { head: string; oldest: number; newest: number } {
    const newest = log?.seq ?? 0;
    return { head: this.#cursors.format(newest), oldest: newest - (log?.entries.length ?? 0), newest };
  }

  /** A fresh reader's page: the newest messages, walking back from the head (it costs `limit`, not the history). */
  #newest(log: WallLog | undefined, query: ReadQuery | ReadBeforeQuery): { messages: MessageEntry[]; more: boolean } {
    return log === undefined ? { messages: [], more: false } : backward(log, log.entries.length - 1, query);
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    const event = this.#walls.get(wall)?.byId.get(id)?.event;
    return event?.type === 'message' ? event.message : undefined;
  }

  async findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.#posted(this.#walls.get(wall), idempotencyKey, Date.now());
  }

  #posted(log: WallLog | undefined, key: string, nowMs: number): Message | undefined {
    const first = log?.byKey.get(key);
    if (first === undefined || first.atMs <= nowMs - IDEMPOTENCY_TTL_MS || first.event.type !== 'message')
      return undefined;
    return first.event.message;
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
    clearInterval(this.#retentionSweep);
    this.#feed.clear();
  }

  #log(wall: string): WallLog {
    let log = this.#walls.get(wall);
    if (log === undefined) {
      log = {
        seq: 0,
        entries: new RingBuffer(this.limits.historySize),
        bytes: 0,
        byId: new Map(),
        byKey: new Map(),
        removed: new Set(),
      };
      this.#walls.set(wall, log);
    }
    return log;
  }

  /** Adds an event at the head, then trims the wall to its bounds (by count, by bytes). */
  #push(log: WallLog, event: WallEvent, nowMs: number, key?: string): Entry {
    const entry: Entry = { event, bytes: eventBytes(event), atMs: nowMs, key };
    if (log.entries.length === 0) this.#wallsWithHistory++;
    log.seq++;
    log.bytes += entry.bytes;
    const evicted = log.entries.push(entry);
    if (evicted !== undefined) this.#forget(log, evicted);
    while (log.bytes > this.limits.historyBytes && log.entries.length > 1) this.#forget(log, log.entries.shift()!);
    this.#expireWall(log, nowMs);
    return entry;
  }

  /** Bookkeeping for an entry that left the ring. */
  #forget(log: WallLog, entry: Entry): void {
    if (log.removed.delete(entry)) return;
    log.bytes -= entry.bytes;
    if (entry.event.type === 'message' && log.byId.get(entry.event.message.id) === entry) {
      log.byId.delete(entry.event.message.id);
    }
    if (entry.key !== undefined && log.byKey.get(entry.key) === entry) log.byKey.delete(entry.key);
  }

  #expire(nowMs: number): void {
    for (const log of this.#walls.values()) this.#expireWall(log, nowMs);
  }

  /** Drops the events past the retention; a wall left empty no longer counts against `maxWalls`. */
  #expireWall(log: WallLog, nowMs: number): void {
    const retentionMs = this.limits.retentionMs;
    if (retentionMs === undefined) return;
    const oldestKept = nowMs - retentionMs;
    let oldest = log.entries.at(0);
    if (oldest === undefined || oldest.atMs >= oldestKept) return;
    while (oldest !== undefined && oldest.atMs < oldestKept) {
      this.#forget(log, log.entries.shift()!);
      oldest = log.entries.at(0);
    }
    // The log itself stays: its seq must never go back, or old cursors would name new events.
    if (log.entries.length === 0) this.#wallsWithHistory--;
  }
}

type MessageEntry = Entry & { readonly event: Extract<WallEvent, { type: 'message' }> };

function messageOf(entry: MessageEntry) {
  return entry.event.message;
}

function page<T extends Entry>(entries: Iterable<T>, query: ReadQuery | ReadBeforeQuery) {
  return takePage(entries, (entry) => entry.bytes, query.limit, query.maxBytes);
}

/** The events kept from ring index `from` on, oldest first, skipping deleted messages. */
function* forward(log: WallLog, from: number): Generator<Entry> {
  for (let i = from; i < log.entries.length; i++) {
    const entry = log.entries.at(i) as Entry;
    if (!log.removed.has(entry)) yield entry;
  }
}

/** A page of the messages from ring index `from` back, returned oldest first. */
function backward(log: WallLog, from: number, query: ReadQuery | ReadBeforeQuery) {
  const { items, more } = page(messagesBack(log, from), query);
  return { messages: items.reverse(), more };
}

/** The messages kept from ring index `from` back, newest first: delete events and deleted messages skipped. */
function* messagesBack(log: WallLog, from: number): Generator<MessageEntry> {
  for (let i = from; i >= 0; i--) {
    const entry = log.entries.at(i) as Entry;
    if (entry.event.type === 'message' && !log.removed.has(entry)) yield entry as MessageEntry;
  }
}
