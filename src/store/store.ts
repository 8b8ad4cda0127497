/**
 * The MessageStore contract: what every store guarantees, stated once.
 *
 * A store keeps, per wall, an append-only log of events. Today an event is a
 * posted message; the log is shaped for moderation too (a `delete` event
 * with a cursor of its own), so that a stream that replays past a deletion
 * sees it.
 *
 * ## Cursors
 * - A cursor is an opaque string naming a position in one wall's log: at
 *   most 64 characters, never CR, LF or NUL (it is the SSE `id:` field),
 *   and never `,` or `:` (a stream of several walls joins `wall:cursor`
 *   pairs with commas into its id).
 * - Cursors of one wall are strictly increasing in append order, as judged
 *   by `compareCursors`. Callers never parse them.
 * - Every wall has a head: the cursor of its newest event, or, while it has
 *   none, a cursor naming "before the first event" (still a valid `after`).
 * - A cursor carries what the store needs to tell whether it can still be
 *   resumed. It cannot when it is malformed, from another wall's numbering,
 *   ahead of the head, from an earlier epoch (a memory store that restarted
 *   lost the events it named), or older than what trimming kept: resuming it
 *   would silently skip events. Such reads report `reset` and never guess.
 *
 * ## Reading
 * - `read(wall, {after})`: the events strictly after `after`, oldest first,
 *   at most `limit` of them. Message events and delete events both count.
 * - `read(wall, {})`: the newest `limit` messages, oldest first; delete
 *   events are left out because a fresh reader has nothing to delete.
 * - `start` is a cursor from which `read({after: start})` yields `events[0]`
 *   first; after a reset it is what a client may resume from.
 * - Finding the position of `after` never scans the history linearly.
 *
 * ## Paging backwards (issue 18: "Older messages")
 * - `readBefore(wall, {before})`: the newest `limit` messages strictly before
 *   `before` (and `maxBytes`, never fewer than one), oldest first as in
 *   `read`. Delete events are left out, as in a fresh read: a reader going
 *   back has nothing to delete. `more` tells whether the wall keeps a message
 *   older than `messages[0]`; the next page is
 *   `readBefore(wall, {before: messages[0].cursor})`, and `more: false` means
 *   the reader has reached the oldest message kept. So a reader that shows
 *   a fresh `read(wall, {})` goes back from `events[0].cursor`.
 * - `before` may be any cursor `read` or `readBefore` would accept as
 *   `after`: a message's, an event's, a head or a `start`. At or before the
 *   oldest event kept it gives no messages and `more: false`.
 * - `before` older than what trimming (or the retention) kept: no messages,
 *   `more: false` and `reset: 'trimmed'`. Everything before it is gone too,
 *   and what the reader shows stays right: it has reached the beginning.
 * - `before` malformed, ahead of the head or from another epoch: `reset`
 *   says which, as `read` does, and the messages are a fresh read's (the
 *   newest, with `more` for them). The reader shows another history, and
 *   starts over from these.
 * - As for `after`, finding the position of `before` never scans the history.
 *
 * ## Listing walls
 * - `listWalls({limit, after})`: the walls with history (the walls that
 *   count against `maxWalls`), each with the time of its newest event (a
 *   message or a delete, by the store's clock: Redis's own for Redis) and
 *   that event's cursor, ordered by that time,
 *   newest first, then by name, last first. At most `limit` walls (up to
 *   `MAX_WALLS_LISTED`) per page; `next`, set while more walls follow, is
 *   the `after` of the next page.
 * - The position a page ends at is a (time, name) pair, so pages stay in
 *   order while walls keep posting: no wall is listed twice in one walk
 *   through the pages, and a wall that posts during the walk moves to the
 *   top, where the walk does not go back to (a fresh first page shows it).
 * - A wall whose history is all gone (the retention) is not listed; trimming
 *   by size never empties a wall, and a deleted message leaves its delete
 *   event, so neither takes a wall off the list.
 * - `after` is opaque; `parseWallListCursor` tells whether a client's text
 *   is one (a route answers `400` when it is not). A store given anything
 *   else rejects with a `RangeError`.
 *
 * ## Appending and the live feed
 * - `append` resolves only once the message is as durable as the store can
 *   make it (committed to SQLite, acknowledged by Redis); a caller may then
 *   answer `201`. It rejects with a `StoreUnavailableError` when the store is
 *   down, and a rejected append was not stored.
 * - Every appended event, from this process or (for shared stores) any
 *   other, is passed exactly once to the `onEvent` listeners, per wall in
 *   cursor order. A listener runs synchronously and must not throw.
 *
 * ## History and bounds (`StoreLimits`)
 * - Each wall keeps its newest events (messages and the rarer delete
 *   events) up to `historySize` of them and `historyBytes` of message JSON,
 *   and never fewer than its newest one. With `retentionMs`, events older
 *   than that go too. Older events may be trimmed at any time, and cursors
 *   before them stop resuming (`trimmed`).
 * - A store holds at most `maxWalls` walls with history. A post to a new
 *   wall past that is refused with a `WallLimitError`, and nothing is stored.
 *
 * ## Idempotent appends
 * - An append with an `idempotencyKey` that the same wall saw within
 *   `IDEMPOTENCY_TTL_MS`, whose message is still in the history, stores
 *   nothing and resolves with that message (its `id` then differs from the
 *   draft's). So a client that retries a post whose answer it never got
 *   posts it once. The key is kept with its message and takes no room of its
 *   own: once the message is trimmed, deleted or older than the TTL, the key
 *   names nothing.
 *
 * ## Failures
 * - A store reports trouble with its backend (a Redis that does not answer,
 *   a disk that refuses a commit) as a `StoreUnavailableError` carrying the
 *   backend's error as `cause`. Stores know nothing of HTTP: the app maps
 *   this error to its `503` in one place.
 */
import type { Message, NewMessage } from '../message.js';

/**
 * Rows over `historySize` a wall may hold before it is trimmed (SQLite,
 * Redis): trimming in batches keeps each delete small, so streaming never
 * waits long on it, and rare, not one delete per post.
 */
export const TRIM_SLACK = 100;

/**
 * Bytes over `historyBytes` a wall may hold before it is trimmed, as a
 * fraction of it (SQLite, Redis): like TRIM_SLACK for rows, so a wall at its
 * byte bound is not trimmed on every post.
 */
export const BYTES_SLACK = 0.1;

/** How long a store remembers an idempotency key (the IETF draft's advice: a day). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a store keeps: see "History and bounds" above. */
export interface StoreLimits {
  /** Events kept per wall. */
  historySize: number;
  /** Bytes of message JSON kept per wall. */
  historyBytes: number;
  /** Walls with history; a post to a new wall past it is refused. */
  maxWalls: number;
  /** Events older than this are trimmed; undefined keeps them until pushed out. */
  retentionMs?: number;
}

/**
 * How often a store sweeps away events past its retention: ten times per
 * retention (so an event outlives it by a tenth at most), at most once a
 * minute, at least every 100 ms.
 */
export function retentionSweepMs(retentionMs: number): number {
  return Math.max(100, Math.min(60_000, Math.floor(retentionMs / 10)));
}

/** The size an event counts for against `historyBytes` and a read's `maxBytes`. */
export function eventBytes(event: WallEvent): number {
  return event.type === 'message' ? Buffer.byteLength(JSON.stringify(event.message)) : DELETE_EVENT_BYTES;
}

/**
 * A delete event is its message id and little else. The Redis scripts take
 * this constant into their text, so both sides count the same bytes.
 */
export const DELETE_EVENT_BYTES = 64;

/** Walls `listWalls` returns per page at most: a page stays small whatever `limit` asks. */
export const MAX_WALLS_LISTED = 100;

/**
 * The store's backend did not answer or refused the operation. `uncertain`
 * when the request may still have been carried out (it was sent, and the
 * answer never came): only an idempotent retry is then safe.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** How long a client should wait before trying again. */
  readonly retryAfterSeconds: number;
  readonly uncertain: boolean;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number; uncertain?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.uncertain = options.uncertain ?? false;
  }
}

/** The store cannot be opened at start (a path it cannot create or write, a file in use): one line says why. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** A post to a new wall while the store holds `maxWalls` walls. */
export class WallLimitError extends Error {
  override readonly name = 'WallLimitError';

  constructor(readonly maxWalls: number) {
    super(`The store holds its maximum of ${maxWalls} walls.`);
  }
}

export type WallEvent =
  | { readonly type: 'message'; readonly cursor: string; readonly message: Message }
  | { readonly type: 'delete'; readonly cursor: string; readonly id: string };

/** Why a cursor could not be resumed; sent to clients in `event: reset`. */
export type ResetReason =
  /** Not a cursor this store could have produced. */
  | 'malformed'
  /** Well-formed but ahead of the head, or of another numbering. */
  | 'unknown'
  /** Events after it were trimmed from the history. */
  | 'trimmed'
  /** From before the store lost its history (a restarted memory store). */
  | 'epoch';

export interface ReadQuery {
  /** Resume strictly after this cursor; absent: the newest messages. */
  after?: string;
  /** At most this many events (≥ 1). */
  limit: number;
  /**
   * At most this many bytes of events (`eventBytes`), but never fewer than
   * one event: a page of long messages stops early, and the reader goes on
   * from its last cursor. Without it, only `limit` bounds the page.
   */
  maxBytes?: number;
}

export interface AppendOptions {
  /** See "Idempotent appends" above. */
  idempotencyKey?: string;
}

export interface ReadResult {
  /** Oldest first. */
  events: WallEvent[];
  /** The wall's head when the read was made. */
  head: string;
  /** Resuming after `start` yields `events[0]` first (or nothing, at the head). */
  start: string;
  /** Set when `after` could not be resumed; `events` are then the newest. */
  reset?: ResetReason;
}

export interface ReadBeforeQuery {
  /** Messages strictly before this cursor (see "Paging backwards" above). */
  before: string;
  /** At most this many messages (≥ 1). */
  limit: number;
  /** At most this many bytes of messages, never fewer than one message (as in `ReadQuery`). */
  maxBytes?: number;
}

export interface OlderPage {
  /** Oldest first; messages only. */
  messages: Message[];
  /** Whether the wall keeps a message older than `messages[0]`. */
  more: boolean;
  /** Set when `before` could not be placed; see "Paging backwards" for what `messages` then are. */
  reset?: ResetReason;
}

export interface WallListQuery {
  /** At most this many walls (≥ 1); more than `MAX_WALLS_LISTED` counts as that. */
  limit: number;
  /** The `next` of the page before; absent: the walls active most recently. */
  after?: string;
}

export interface WallActivity {
  wall: string;
  /** When its newest event was stored (ISO 8601, UTC, milliseconds), by the store's clock. */
  lastActivityAt: string;
  /**
   * The cursor of its newest event: with a cursor kept from an earlier
   * visit, `compareCursors` tells whether there is something new.
   */
  head: string;
}

export interface WallList {
  /** By last activity, newest first. */
  walls: WallActivity[];
  /** The `after` of the next page; absent when no wall follows. */
  next?: string;
}

/** Where a wall listing stands: the last wall listed and its time. Every store orders walls by this pair. */
export interface WallListPosition {
  atMs: number;
  wall: string;
}

/** `next` of a listing that ended at `position`. */
export function formatWallListCursor(position: WallListPosition): string {
  return `${position.atMs}.${position.wall}`;
}

/** The position a wall listing's `next` names, or undefined when `text` is no such cursor. */
export function parseWallListCursor(text: string): WallListPosition | undefined {
  const match = /^(0|[1-9][0-9]{0,15})\.([a-z0-9_-]{1,64})$/.exec(text);
  return match === null ? undefined : { atMs: Number(match[1]), wall: match[2] as string };
}

/** Whether `a` comes before `b` in a wall listing: newer first, then the later name first. */
export function listedBefore(a: WallListPosition, b: WallListPosition): boolean {
  return a.atMs > b.atMs || (a.atMs === b.atMs && a.wall > b.wall);
}

/** The position `after` names for a store's listing; a RangeError when it names none (see "Listing walls"). */
export function wallListAfter(after: string | undefined): WallListPosition | undefined {
  if (after === undefined) return undefined;
  const position = parseWallListCursor(after);
  if (position === undefined) throw new RangeError(`${JSON.stringify(after)} is not a wall list cursor`);
  return position;
}

/**
 * A store's page of its listing from the walls it ranked: `ranked` holds up
 * to `limit` + 1, newest activity first (the extra one says a page
 * follows); `headOf` gives each shown wall's head.
 */
export function wallListPage<T extends WallListPosition>(
  ranked: readonly T[],
  limit: number,
  headOf: (listed: T) => string,
): WallList {
  const walls = ranked.slice(0, limit).map((listed) => ({
    wall: listed.wall,
    lastActivityAt: new Date(listed.atMs).toISOString(),
    head: headOf(listed),
  }));
  const last = ranked[limit - 1];
  return ranked.length > limit && last !== undefined ? { walls, next: formatWallListCursor(last) } : { walls };
}

/** The messages of a page, dropping delete events. */
export function messagesOf(events: readonly WallEvent[]): Message[] {
  return events.flatMap((event) => (event.type === 'message' ? [event.message] : []));
}

/** Where a reader of `page` continues: its last event, or the head when it has none. */
export function resumeCursor(page: ReadResult): string {
  return page.events.at(-1)?.cursor ?? page.head;
}

export type EventListener = (wall: string, event: WallEvent) => void;

export interface MessageStore {
  /** Stores a message, gives it its cursor, feeds it to the listeners. */
  append(message: NewMessage, options?: AppendOptions): Promise<Message>;
  read(wall: string, query: ReadQuery): Promise<ReadResult>;
  /** See "Paging backwards" above. */
  readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage>;
  /** See "Listing walls" above. */
  listWalls(query: WallListQuery): Promise<WallList>;
  /**
   * Moderation: takes a message out of the history (reads and replays no
   * longer return it) and appends a `delete` event with a cursor of its own,
   * fed to the listeners like any event. Resolves undefined, changing
   * nothing, when the wall has no such message.
   */
  delete(wall: string, id: string): Promise<WallEvent | undefined>;
  /** A message still in the history, by id. */
  get(wall: string, id: string): Promise<Message | undefined>;
  /** The message an append with `idempotencyKey` stored, while an append with it would answer that message. */
  findPost(wall: string, idempotencyKey: string): Promise<Message | undefined>;
  /** Negative, zero or positive, as `a` is before, at or after `b` (same wall). */
  compareCursors(a: string, b: string): number;
  /** Subscribes to the live feed of every wall. */
  onEvent(listener: EventListener): void;
  /**
   * Subscribes to feed loss: a shared store's feed moved on past events this
   * process never received (it was cut off too long). Every open stream must
   * then be restarted, so that its client replays from its own cursor.
   * Stores whose feed cannot lose events never call it.
   */
  onFeedLost?(listener: () => void): void;
  /** Whether the store answers now (for `/readyz`). */
  isReady(): Promise<boolean>;
  /** Flushes and releases everything; the store is unusable afterwards. */
  close(): Promise<void>;
}
