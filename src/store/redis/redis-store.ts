import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Message, type NewMessage, withCursor } from '../../message.js';
import { LiveFeed } from '../live-feed.js';
import {
  type EventListener,
  type MessageStore,
  type ReadQuery,
  type ReadResult,
  StoreUnavailableError,
  TRIM_SLACK,
  type WallEvent,
} from '../store.js';
import { type FeedEntry, FeedReader, feedEnd } from './feed-reader.js';
import { APPEND, DELETE, READ } from './scripts.js';
import { compareStreamIds, isStreamId, streamIdBefore } from './stream-id.js';

/**
 * The shared feed every instance reads. It only has to cover an instance's
 * outage; an instance that fell further behind restarts its streams.
 */
const FEED_MAX_LEN = 100_000;
/** Commands that take longer fail (a post answers 503 rather than hang). */
const COMMAND_TIMEOUT_MS = 2000;
/** Longest wait between reconnection attempts to Redis. */
const MAX_RECONNECT_MS = 2000;
/** How long `open` waits for a first connection before serving anyway (as not ready). */
const CONNECT_WAIT_MS = 3000;
/** What a client is told to wait while Redis does not answer. */
const RETRY_AFTER_SECONDS = 2;

interface RedisWithScripts extends Redis {
  wallAppend(...keysThenArgs: (string | number)[]): Promise<string>;
  wallRead(...keysThenArgs: (string | number)[]): Promise<[status: string, head: string, entries: FeedEntry[]]>;
  wallDelete(...keysThenArgs: (string | number)[]): Promise<string | null>;
}

/**
 * One Redis Stream per wall, entry ids as cursors, and one shared feed that
 * a single blocking reader per instance turns into the live feed, so any
 * number of instances behave as one wall (see scripts.ts for the keys).
 */
export class RedisStreamStore implements MessageStore {
  readonly #redis: RedisWithScripts;
  readonly #prefix: string;
  readonly #feed = new LiveFeed();
  readonly #lost: (() => void)[] = [];
  readonly #reader: FeedReader;

  private constructor(
    url: string,
    readonly historySize: number,
    log: Logger,
  ) {
    const parsed = new URL(url);
    this.#prefix = parsed.searchParams.get('prefix') ?? 'wallcast:';
    parsed.searchParams.delete('prefix');
    const retryStrategy = (times: number) => Math.min(times * 100, MAX_RECONNECT_MS);
    this.#redis = new Redis(parsed.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy,
    }) as RedisWithScripts;
    reportConnection(this.#redis, log);
    this.#redis.defineCommand('wallAppend', { numberOfKeys: 4, lua: APPEND });
    this.#redis.defineCommand('wallRead', { numberOfKeys: 2, lua: READ });
    this.#redis.defineCommand('wallDelete', { numberOfKeys: 4, lua: DELETE });
    const reader = new Redis(parsed.toString(), { maxRetriesPerRequest: null, retryStrategy });
    // The command connection reports outages; the reader's own errors are its retries.
    reader.on('error', () => {});
    this.#reader = new FeedReader(
      reader,
      this.#feedKey(),
      {
        entry: (fields) => this.#feed.emit(fieldOf(fields, 'w'), toEvent(fieldOf(fields, 'c'), fields)),
        lost: () => {
          for (const listener of this.#lost) listener();
        },
      },
      log,
    );
  }

  /** Connects (waiting a few seconds at most) and starts the feed reader. */
  static async open(url: string, historySize: number, log: Logger): Promise<RedisStreamStore> {
    const store = new RedisStreamStore(url, historySize, log);
    await Promise.race([
      new Promise((resolve) => store.#redis.once('ready', resolve)),
      new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref()),
    ]);
    // The feed position is taken before the store is handed out, so that the
    // reader sees every append made through it.
    store.#reader.start(await feedEnd(store.#redis, store.#feedKey()).catch(() => undefined));
    return store;
  }

  async append(draft: NewMessage): Promise<Message> {
    const entry = await this.#call('post', () =>
      this.#redis.wallAppend(
        ...this.#wallKeys(draft.wall),
        this.historySize,
        TRIM_SLACK,
        draft.id,
        JSON.stringify(draft),
        draft.wall,
        FEED_MAX_LEN,
      ),
    );
    return withCursor(draft, entry);
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    const cursor = await this.#call('delete', () =>
      this.#redis.wallDelete(...this.#wallKeys(wall), id, wall, FEED_MAX_LEN),
    );
    return cursor === null ? undefined : { type: 'delete', cursor, id };
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    // A cursor Redis could not have issued is not sent: it is read as "the newest", then marked.
    const malformed = query.after !== undefined && !isStreamId(query.after);
    const [events, meta] = this.#wallKeys(wall);
    const [status, head, entries] = await this.#call('read', () =>
      this.#redis.wallRead(events, meta, malformed ? '' : (query.after ?? ''), query.limit),
    );
    if (status === 'after') {
      return { events: entries.map(([id, fields]) => toEvent(id, fields)), head, start: query.after as string };
    }
    const newest = entries.reverse().map(([id, fields]) => toEvent(id, fields));
    const page: ReadResult = {
      events: newest,
      head,
      start: newest[0] === undefined ? head : streamIdBefore(newest[0].cursor),
    };
    if (malformed) page.reset = 'malformed';
    else if (status === 'unknown' || status === 'trimmed') page.reset = status;
    return page;
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    const [events, , ids] = this.#wallKeys(wall);
    const found = await this.#call('read', async () => {
      const entry = await this.#redis.hget(ids, id);
      return entry === null ? [] : ((await this.#redis.xrange(events, entry, entry)) as FeedEntry[]);
    });
    const event = found[0] === undefined ? undefined : toEvent(found[0][0], found[0][1]);
    return event?.type === 'message' ? event.message : undefined;
  }

  compareCursors(a: string, b: string): number {
    return compareStreamIds(a, b);
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
    await this.#reader.stop();
    this.#feed.clear();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /** Runs a command; Redis not answering (down, cut off, too slow) makes the store unavailable. */
  async #call<T>(operation: 'post' | 'read' | 'delete', command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(`Redis did not answer the ${operation}.`, {
        cause: error,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
  }

  /** events, meta, ids, feed: the keys the scripts take, in their order. */
  #wallKeys(wall: string): [string, string, string, string] {
    const tag = `${this.#prefix}{${wall}}`;
    return [`${tag}:events`, `${tag}:meta`, `${tag}:ids`, this.#feedKey()];
  }

  #feedKey(): string {
    return `${this.#prefix}feed`;
  }
}

/** Logs when the command connection is lost and when it is back, not each retry. */
function reportConnection(redis: Redis, log: Logger): void {
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ err: error }, 'redis: connection lost; posts and reads answer 503 until it is back');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info('redis: connection is back');
  });
}

/** A stream entry's value for `name` (entries are flat [name, value, …] lists). */
function fieldOf(fields: string[], name: string): string {
  return fields[fields.indexOf(name) + 1] ?? '';
}

function toEvent(cursor: string, fields: string[]): WallEvent {
  if (fieldOf(fields, 't') === 'delete') return { type: 'delete', cursor, id: fieldOf(fields, 'id') };
  const message = withCursor(JSON.parse(fieldOf(fields, 'j')) as NewMessage, cursor);
  return { type: 'message', cursor, message };
}
