import { type Message, type NewMessage, withCursor } from '../message.js';
import { RingBuffer } from '../ring-buffer.js';
import { EpochCursors } from './epoch-cursor.js';
import { LiveFeed } from './live-feed.js';
import {
  type AppendOptions,
  type EventListener,
  eventBytes,
  IDEMPOTENCY_TTL_MS,
  type MessageStore,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  retentionSweepMs,
  type StoreLimits,
  type WallEvent,
  WallLimitError,
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
    const headSeq = log?.seq ?? 0;
    const length = log?.entries.length ?? 0;
    const firstSeq = headSeq - length + 1;
    const head = this.#cursors.format(headSeq);
    const maxBytes = query.maxBytes ?? Number.POSITIVE_INFINITY;
    let reset: ResetReason | undefined;
    if (query.after !== undefined) {
      const position = this.#cursors.position(query.after, firstSeq - 1, headSeq);
      if (typeof position === 'number') {
        const events = log === undefined ? [] : forward(log, position - firstSeq + 1, query.limit, maxBytes);
        return { events, head, start: query.after };
      }
      reset = position.reset;
    }
    const events = log === undefined ? [] : newestMessages(log, query.limit, maxBytes);
    const start = events[0] === undefined ? head : this.#cursors.before(events[0].cursor);
    return reset === undefined ? { events, head, start } : { events, head, start, reset };
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

/** Up to `limit` events (and `maxBytes`, at least one) from ring index `from` on, skipping deleted messages. */
function forward(log: WallLog, from: number, limit: number, maxBytes: number): WallEvent[] {
  const events: WallEvent[] = [];
  let bytes = 0;
  for (let i = from; i < log.entries.length && events.length < limit; i++) {
    const entry = log.entries.at(i) as Entry;
    if (log.removed.has(entry)) continue;
    bytes += entry.bytes;
    if (bytes > maxBytes && events.length > 0) break;
    events.push(entry.event);
  }
  return events;
}

/** Walks back from the newest event: a fresh reader costs `limit`, not the history. */
function newestMessages(log: WallLog, limit: number, maxBytes: number): WallEvent[] {
  const newest: WallEvent[] = [];
  let bytes = 0;
  for (let i = log.entries.length - 1; i >= 0 && newest.length < limit; i--) {
    const entry = log.entries.at(i) as Entry;
    if (entry.event.type !== 'message' || log.removed.has(entry)) continue;
    bytes += entry.bytes;
    if (bytes > maxBytes && newest.length > 0) break;
    newest.push(entry.event);
  }
  return newest.reverse();
}
