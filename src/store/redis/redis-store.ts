import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from '../../config.js';
import { type Message, type NewMessage, withCursor } from '../../message.js';
import { LiveFeed } from '../live-feed.js';
import {
  type AppendOptions,
  BYTES_SLACK,
  type EventListener,
  formatWallListCursor,
  IDEMPOTENCY_TTL_MS,
  MAX_WALLS_LISTED,
  type MessageStore,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  retentionSweepMs,
  type StoreLimits,
  StoreUnavailableError,
  TRIM_SLACK,
  type WallEvent,
  WallLimitError,
  type WallList,
  type WallListPosition,
  type WallListQuery,
  wallListAfter,
} from '../store.js';
import { adoptWallSet } from './adopt-wall-set.js';
import { connectRedis, reportConnection } from './connect.js';
import { type FeedEntry, fieldOf, toEvent } from './entries.js';
import { FeedReader, feedEnd } from './feed-reader.js';
import { RedisKeys } from './keys.js';
import { compareCursors, cursorBefore, formatCursor, newEpoch, parseCursor } from './redis-cursor.js';
import { APPEND, DELETE, EXPIRE, LIST_WALLS, READ } from './scripts.js';
import { streamIdMs } from './stream-id.js';

/**
 * The shared feed every instance reads (entries, about; trimmed with `~`).
 * It only has to cover an instance's outage: one that fell further behind
 * restarts its streams, and every client replays from its own cursor. At
 * the longest messages it takes about 90 MB of Redis memory.
 */
const FEED_MAX_LEN = 10_000;
/** Commands that take longer fail (a post answers 503 rather than hang). */
const COMMAND_TIMEOUT_MS = 2000;
/** Longest wait between reconnection attempts to Redis. */
const MAX_RECONNECT_MS = 2000;
/** How long `open` waits for a first connection before serving anyway (as not ready). */
const CONNECT_WAIT_MS = 3000;
/** What a client is told to wait while Redis does not answer. */
const RETRY_AFTER_SECONDS = 2;

type Appended =
  | [status: 'stored', epoch: string, entry: string]
  | [status: 'replayed', epoch: string, entry: string, json: string];

interface RedisWithScripts extends Redis {
  wallAppend(...keysThenArgs: (string | number)[]): Promise<Appended | [status: 'wall_limit', epoch: string]>;
  wallRead(
    ...keysThenArgs: (string | number)[]
  ): Promise<[status: ReadStatus, epoch: string, head: string, entries: FeedEntry[], more: 0 | 1]>;
  wallDelete(...keysThenArgs: (string | number)[]): Promise<[epoch: string, entry: string] | null>;
  wallExpire(...keysThenArgs: (string | number)[]): Promise<number>;
  wallList(...keysThenArgs: (string | number)[]): Promise<[epoch: string, wallsAndMs: string[]]>;
}

/** What the read script answered: the direction asked for, or the newest messages (with why, on a reset). */
type ReadStatus = 'after' | 'before' | 'newest' | 'epoch' | 'unknown' | 'trimmed';

/**
 * One Redis Stream per wall, `{epoch}-{entry id}` as cursors, and one shared
 * feed that a single blocking reader per instance turns into the live feed,
 * so any number of instances behave as one wall (scripts.ts has the keys).
 */
export class RedisStreamStore implements MessageStore {
  readonly #redis: RedisWithScripts;
  readonly #keys: RedisKeys;
  readonly #feed = new LiveFeed();
  readonly #lost: (() => void)[] = [];
  readonly #reader: FeedReader;
  /** The epoch of the feed entries read so far: another one means Redis lost its data under us. */
  #feedEpoch: string | undefined;
  readonly #retentionSweep: NodeJS.Timeout | undefined;

  private constructor(
    { endpoint, prefix }: RedisTarget,
    readonly limits: StoreLimits,
    private readonly log: Logger,
  ) {
    this.#keys = new RedisKeys(prefix);
    const retryStrategy = (times: number) => Math.min(times * 100, MAX_RECONNECT_MS);
    this.#redis = connectRedis(endpoint, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy,
    }) as RedisWithScripts;
    reportConnection(this.#redis, log);
    this.#redis.defineCommand('wallAppend', { numberOfKeys: 7, lua: APPEND });
    this.#redis.defineCommand('wallRead', { numberOfKeys: 3, lua: READ });
    this.#redis.defineCommand('wallDelete', { numberOfKeys: 7, lua: DELETE });
    this.#redis.defineCommand('wallExpire', { numberOfKeys: 5, lua: EXPIRE });
    this.#redis.defineCommand('wallList', { numberOfKeys: 2, lua: LIST_WALLS });
    const reader = connectRedis(endpoint, { maxRetriesPerRequest: null, retryStrategy });
    // The command connection reports outages; the reader's own errors are its retries.
    reader.on('error', () => {});
    this.#reader = new FeedReader(
      reader,
      this.#keys.feed,
      { entry: (f) => this.#deliver(f), lost: () => this.#lose() },
      log,
    );
    if (limits.retentionMs !== undefined) {
      this.#retentionSweep = setInterval(() => void this.#expire(), retentionSweepMs(limits.retentionMs));
      this.#retentionSweep.unref();
    }
  }

  /** Connects (waiting a few seconds at most) and starts the feed reader. */
  static async open(target: RedisTarget, limits: StoreLimits, log: Logger): Promise<RedisStreamStore> {
    const store = new RedisStreamStore(target, limits, log);
    await Promise.race([
      new Promise((resolve) => store.#redis.once('ready', resolve)),
      new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref()),
    ]);
    // The feed position is taken before the store is handed out, so that the
    // reader sees every append made through it.
    store.#feedEpoch = (await store.#redis.get(store.#keys.epoch).catch(() => null)) ?? undefined;
    store.#reader.start(await feedEnd(store.#redis, store.#keys.feed).catch(() => undefined));
    await adoptWallSet(store.#redis, store.#keys, log).catch((error: unknown) => {
      log.warn(
        { err: error },
        'redis: the wall set of wallcast 0.2 could not be adopted; trying again at the next start',
      );
    });
    return store;
  }

  async append(draft: NewMessage, options: AppendOptions = {}): Promise<Message> {
    const { historySize, historyBytes, maxWalls } = this.limits;
    const key = options.idempotencyKey;
    const { events, meta, ids, keys } = this.#keys.wall(draft.wall);
    const reply = await this.#call('post', () =>
      this.#redis.wallAppend(
        events,
        meta,
        ids,
        this.#keys.feed,
        this.#keys.epoch,
        this.#keys.active,
        keys,
        newEpoch(),
        historySize,
        historyBytes,
        TRIM_SLACK,
        Math.ceil(historyBytes * BYTES_SLACK),
        maxWalls,
        draft.id,
        JSON.stringify(draft),
        draft.wall,
        FEED_MAX_LEN,
        key ?? '',
        IDEMPOTENCY_TTL_MS,
      ),
    );
    if (reply[0] === 'wall_limit') throw new WallLimitError(maxWalls);
    if (reply[0] === 'stored') return withCursor(draft, formatCursor(reply[1], reply[2]));
    const [, epoch, entry, json] = reply;
    return withCursor(JSON.parse(json) as NewMessage, formatCursor(epoch, entry));
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    const { events, meta, ids, keys } = this.#keys.wall(wall);
    const reply = await this.#call('delete', () =>
      this.#redis.wallDelete(
        events,
        meta,
        ids,
        this.#keys.feed,
        this.#keys.epoch,
        keys,
        this.#keys.active,
        newEpoch(),
        id,
        wall,
        FEED_MAX_LEN,
      ),
    );
    return reply === null ? undefined : { type: 'delete', cursor: formatCursor(reply[0], reply[1]), id };
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    const { status, head, events } = await this.#read(wall, query.after, 'after', query);
    if (status === 'after') return { events, head, start: query.after as string };
    const page: ReadResult = { events, head, start: events[0] === undefined ? head : cursorBefore(events[0].cursor) };
    // Going forward, anything but `after` and `newest` is a reset.
    if (status !== 'newest') page.reset = status as ResetReason;
    return page;
  }

  async readBefore(wall: string, query: ReadBeforeQuery): Promise<OlderPage> {
    const { status, events, more } = await this.#read(wall, query.before, 'before', query);
    const messages = events.flatMap((event) => (event.type === 'message' ? [event.message] : []));
    return status === 'before' ? { messages, more } : { messages, more, reset: status as ResetReason };
  }

  /**
   * One call of the read script, its events oldest first. A cursor Redis
   * could not have issued is not sent: it is read as "the newest", and the
   * status says `malformed`.
   */
  async #read(
    wall: string,
    cursor: string | undefined,
    direction: 'after' | 'before',
    query: ReadQuery | ReadBeforeQuery,
  ): Promise<{ status: ReadStatus | 'malformed'; head: string; events: WallEvent[]; more: boolean }> {
    const parsed = cursor === undefined ? undefined : parseCursor(cursor);
    const { events, meta } = this.#keys.wall(wall);
    const [status, epoch, head, entries, more] = await this.#call('read', () =>
      this.#redis.wallRead(
        events,
        meta,
        this.#keys.epoch,
        newEpoch(),
        parsed?.epoch ?? '',
        parsed?.entryId ?? '',
        query.limit,
        query.maxBytes ?? Number.MAX_SAFE_INTEGER,
        direction,
      ),
    );
    // Forward the script answers oldest first; the newest messages and going back, newest first.
    const ordered = status === 'after' ? entries : entries.reverse();
    return {
      status: cursor !== undefined && parsed === undefined ? 'malformed' : status,
      head: formatCursor(epoch, head),
      events: ordered.map(([id, fields]) => toEvent(formatCursor(epoch, id), fields)),
      more: more === 1,
    };
  }

  async listWalls(query: WallListQuery): Promise<WallList> {
    const after = wallListAfter(query.after);
    const limit = Math.min(query.limit, MAX_WALLS_LISTED);
    return this.#call('read', async () => {
      const [epoch, flat] = await this.#redis.wallList(
        this.#keys.active,
        this.#keys.epoch,
        newEpoch(),
        after?.atMs ?? '',
        after?.wall ?? '',
        limit + 1,
      );
      const listed: WallListPosition[] = [];
      for (let i = 0; i < flat.length; i += 2) listed.push({ wall: flat[i] as string, atMs: Number(flat[i + 1]) });
      const shown = listed.slice(0, limit);
      // Each wall's head is in its own meta hash (a hash slot of its own): one pipeline, not one script.
      const pipeline = this.#redis.pipeline();
      for (const { wall } of shown) pipeline.hget(this.#keys.wall(wall).meta, 'head');
      const heads = shown.length === 0 ? [] : ((await pipeline.exec()) ?? []);
      const walls = shown.map(({ wall, atMs }, i) => ({
        wall,
        lastActivityAt: new Date(atMs).toISOString(),
        head: formatCursor(epoch, (heads[i]?.[1] as string | null | undefined) ?? '0-0'),
      }));
      const last = shown.at(-1);
      return listed.length > limit && last !== undefined ? { walls, next: formatWallListCursor(last) } : { walls };
    });
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    return this.#messageAt(wall, this.#keys.wall(wall).ids, id);
  }

  async findPost(wall: string, idempotencyKey: string): Promise<Message | undefined> {
    return this.#messageAt(wall, this.#keys.wall(wall).keys, idempotencyKey, Date.now() - IDEMPOTENCY_TTL_MS);
  }

  /**
   * The message whose entry the lookup hash (`ids` or `keys`) names for
   * `field`, while it is in the wall's stream and was added after `afterMs`.
   */
  async #messageAt(wall: string, lookup: string, field: string, afterMs = -1): Promise<Message | undefined> {
    const found = await this.#call('read', async () => {
      const [epoch, entry] = await Promise.all([this.#redis.get(this.#keys.epoch), this.#redis.hget(lookup, field)]);
      if (epoch === null || entry === null || streamIdMs(entry) <= afterMs) return undefined;
      const [hit] = (await this.#redis.xrange(this.#keys.wall(wall).events, entry, entry)) as FeedEntry[];
      return hit === undefined ? undefined : toEvent(formatCursor(epoch, hit[0]), hit[1]);
    });
    return found?.type === 'message' ? found.message : undefined;
  }

  compareCursors(a: string, b: string): number {
    return compareCursors(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#feed.add(listener);
  }

  onFeedLost(listener: () => void): void {
    this.#lost.push(listener);
  }

  async isReady(): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false;
    return (await this.#redis.ping().catch(() => '')) === 'PONG';
  }

  async close(): Promise<void> {
    clearInterval(this.#retentionSweep);
    await this.#reader.stop();
    this.#feed.clear();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #deliver(fields: string[]): void {
    const epoch = fieldOf(fields, 'e');
    if (this.#feedEpoch !== undefined && epoch !== this.#feedEpoch) {
      this.log.warn({ was: this.#feedEpoch, now: epoch }, 'redis: a new history epoch: Redis lost its data');
      this.#lose();
    }
    this.#feedEpoch = epoch;
    this.#feed.emit(fieldOf(fields, 'w'), toEvent(formatCursor(epoch, fieldOf(fields, 'c')), fields));
  }

  #lose(): void {
    for (const listener of this.#lost) listener();
  }

  /** Retention: each wall with history loses its events older than the retention. */
  async #expire(): Promise<void> {
    const minMs = Date.now() - (this.limits.retentionMs ?? 0);
    try {
      let cursor = '0';
      do {
        const [next, membersAndScores] = await this.#redis.zscan(this.#keys.active, cursor, 'COUNT', 100);
        for (const wall of membersAndScores.filter((_, i) => i % 2 === 0)) {
          const { events, meta, ids, keys } = this.#keys.wall(wall);
          await this.#redis.wallExpire(events, meta, ids, this.#keys.active, keys, wall, minMs);
        }
        cursor = next;
      } while (cursor !== '0');
    } catch (error) {
      this.log.warn({ err: error }, 'redis: the retention sweep failed; it runs again in a minute');
    }
  }

  /** Runs a command; Redis not answering (down, cut off, too slow) makes the store unavailable. */
  async #call<T>(operation: 'post' | 'read' | 'delete', command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      // With no connection, ioredis refuses at once: the command never left. Otherwise (a
      // timeout, a connection lost in flight) it may have run.
      const neverSent = error instanceof Error && /enableOfflineQueue/.test(error.message);
      throw new StoreUnavailableError(`Redis did not answer the ${operation}.`, {
        cause: error,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        uncertain: !neverSent,
      });
    }
  }
}
