import { Redis } from 'ioredis';
import { unavailable } from '../errors.js';
import { type Message, type NewMessage, withCursor } from '../message.js';
import type { EventListener, MessageStore, ReadQuery, ReadResult, WallEvent } from './store.js';

/** Stream entry ids: `{ms}-{seq}`, Redis's own clock-free order. */
const CURSOR = /^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,19})$/;

/** Entries over `historySize` a wall may hold before it is trimmed (in one batch). */
const TRIM_SLACK = 100;

/**
 * The shared feed every instance reads. It only has to cover an instance's
 * outage; an instance that fell further behind restarts its streams.
 */
const FEED_MAX_LEN = 100_000;

/** How long one blocking read waits before it is issued again. */
const FEED_BLOCK_MS = 5000;
/** Feed entries taken per read. */
const FEED_BATCH = 1000;
/** Commands that take longer fail (a post answers 503 rather than hang). */
const COMMAND_TIMEOUT_MS = 2000;
/** Longest wait between reconnection attempts to Redis. */
const MAX_BACKOFF_MS = 2000;

/** Lua helpers: compare two stream ids numerically. */
const COMPARE = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function cmp(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
`;

/**
 * KEYS: events, meta, ids, feed. ARGV: history, slack, id, json, wall, feed length.
 * Appends to the wall and to the shared feed in one step, so every instance
 * sees each wall's events in stream order. Trims explicitly (not `MAXLEN ~`)
 * so that `meta.trimmed` says exactly where the history begins.
 */
const APPEND = `
local entry = redis.call('XADD', KEYS[1], '*', 't', 'message', 'id', ARGV[3], 'j', ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], entry)
redis.call('HSET', KEYS[2], 'head', entry)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'w', ARGV[5], 'c', entry, 't', 'message', 'id', ARGV[3], 'j', ARGV[4])
local history = tonumber(ARGV[1])
local len = redis.call('XLEN', KEYS[1])
if len > history + tonumber(ARGV[2]) then
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', len - history)
  for _, e in ipairs(old) do
    redis.call('XDEL', KEYS[1], e[1])
    local f = e[2]
    for k = 1, #f, 2 do
      if f[k] == 'id' then redis.call('HDEL', KEYS[3], f[k + 1]) end
    end
  end
  redis.call('HSET', KEYS[2], 'trimmed', old[#old][1])
end
return entry
`;

/**
 * KEYS: events, meta. ARGV: cursor ('' for the newest), limit.
 * Returns {status, head, entries}: `after` and the entries after the cursor;
 * or `newest`, `unknown` or `trimmed` and the newest messages (newest first),
 * so that a reset costs one round trip too.
 */
const READ = `${COMPARE}
local meta = redis.call('HMGET', KEYS[2], 'head', 'trimmed')
local head = meta[1] or '0-0'
local trimmed = meta[2] or '0-0'
local limit = tonumber(ARGV[2])
local status = 'newest'
if ARGV[1] ~= '' then
  if cmp(ARGV[1], head) > 0 then status = 'unknown'
  elseif cmp(ARGV[1], trimmed) < 0 then status = 'trimmed'
  else return {'after', head, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', limit)} end
end
-- The newest messages, newest first, stepping over delete events.
local out = {}
local upper = '+'
while #out < limit do
  local batch = redis.call('XREVRANGE', KEYS[1], upper, '-', 'COUNT', limit - #out)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    if e[2][2] == 'message' then table.insert(out, e) end
    upper = '(' .. e[1]
  end
end
return {status, head, out}
`;

/**
 * KEYS: events, meta, ids, feed. ARGV: id, wall, feed length.
 * Removes the message and logs a delete event, in the wall and the feed.
 */
const DELETE = `
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if not entry then return false end
redis.call('XDEL', KEYS[1], entry)
redis.call('HDEL', KEYS[3], ARGV[1])
local cursor = redis.call('XADD', KEYS[1], '*', 't', 'delete', 'id', ARGV[1])
redis.call('HSET', KEYS[2], 'head', cursor)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'w', ARGV[2], 'c', cursor, 't', 'delete', 'id', ARGV[1])
return cursor
`;

type Entry = [id: string, fields: string[]];

interface RedisWithScripts extends Redis {
  wallAppend(events: string, meta: string, ids: string, feed: string, ...args: (string | number)[]): Promise<string>;
  wallRead(events: string, meta: string, cursor: string, limit: number): Promise<[string, string, Entry[]]>;
  wallDelete(
    events: string,
    meta: string,
    ids: string,
    feed: string,
    ...args: (string | number)[]
  ): Promise<string | null>;
}

/**
 * One Redis Stream per wall, entry ids as cursors, and one shared feed that
 * a single blocking reader per instance turns into the live feed, so any
 * number of instances behave as one wall. Redis Cluster is not supported:
 * an append touches the wall's keys and the feed in one script.
 */
export class RedisStreamStore implements MessageStore {
  readonly #redis: RedisWithScripts;
  readonly #reader: Redis;
  readonly #prefix: string;
  readonly #listeners: EventListener[] = [];
  readonly #lostListeners: (() => void)[] = [];
  #closed = false;
  #readerDone: Promise<void> | undefined;

  private constructor(
    url: string,
    readonly historySize: number,
  ) {
    const parsed = new URL(url);
    this.#prefix = parsed.searchParams.get('prefix') ?? 'wallcast:';
    parsed.searchParams.delete('prefix');
    const retryStrategy = (times: number) => Math.min(times * 100, MAX_BACKOFF_MS);
    this.#redis = new Redis(parsed.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy,
    }) as RedisWithScripts;
    this.#redis.on('error', () => {
      // Reported through /readyz and 503s; ioredis reconnects by itself.
    });
    this.#redis.defineCommand('wallAppend', { numberOfKeys: 4, lua: APPEND });
    this.#redis.defineCommand('wallRead', { numberOfKeys: 2, lua: READ });
    this.#redis.defineCommand('wallDelete', { numberOfKeys: 4, lua: DELETE });
    this.#reader = new Redis(parsed.toString(), { maxRetriesPerRequest: null, retryStrategy });
    this.#reader.on('error', () => {});
  }

  /** Connects (waiting up to a few seconds) and starts the feed reader. */
  static async open(url: string, historySize: number): Promise<RedisStreamStore> {
    const store = new RedisStreamStore(url, historySize);
    await Promise.race([
      new Promise((resolve) => store.#redis.once('ready', resolve)),
      new Promise((resolve) => setTimeout(resolve, 3000).unref()),
    ]);
    // The feed position is taken before the store is handed out, so that the
    // reader sees every append made through it.
    const start = await store.#feedEnd().catch(() => undefined);
    store.#readerDone = store.#readFeed(start);
    return store;
  }

  async append(draft: NewMessage): Promise<Message> {
    const json = JSON.stringify(draft);
    let entry: string;
    try {
      entry = await this.#redis.wallAppend(
        this.#key(draft.wall, 'events'),
        this.#key(draft.wall, 'meta'),
        this.#key(draft.wall, 'ids'),
        `${this.#prefix}feed`,
        this.historySize,
        TRIM_SLACK,
        draft.id,
        json,
        draft.wall,
        FEED_MAX_LEN,
      );
    } catch {
      throw unavailable('The message store (Redis) is not answering; nothing was posted. Try again shortly.', 2);
    }
    return withCursor(draft, entry);
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    let cursor: string | null;
    try {
      cursor = await this.#redis.wallDelete(
        this.#key(wall, 'events'),
        this.#key(wall, 'meta'),
        this.#key(wall, 'ids'),
        `${this.#prefix}feed`,
        id,
        wall,
        FEED_MAX_LEN,
      );
    } catch {
      throw unavailable('The message store (Redis) is not answering; nothing was deleted. Try again shortly.', 2);
    }
    return cursor === null ? undefined : { type: 'delete', cursor, id };
  }

  async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    // A cursor of another shape is not sent: it is read as "the newest", then marked.
    const malformed = query.after !== undefined && !CURSOR.test(query.after);
    const [status, head, entries] = await this.#redis.wallRead(
      this.#key(wall, 'events'),
      this.#key(wall, 'meta'),
      malformed ? '' : (query.after ?? ''),
      query.limit,
    );
    if (status === 'after') {
      return { events: entries.map((entry) => toEvent(entry[0], entry[1])), head, start: query.after as string };
    }
    const events = entries.reverse().map((entry) => toEvent(entry[0], entry[1]));
    const page: ReadResult = { events, head, start: events[0] === undefined ? head : before(events[0].cursor) };
    if (malformed) page.reset = 'malformed';
    else if (status === 'unknown' || status === 'trimmed') page.reset = status;
    return page;
  }

  async get(wall: string, id: string): Promise<Message | undefined> {
    const entry = await this.#redis.hget(this.#key(wall, 'ids'), id);
    if (entry === null) return undefined;
    const [found] = (await this.#redis.xrange(this.#key(wall, 'events'), entry, entry)) as Entry[];
    if (found === undefined) return undefined;
    const event = toEvent(found[0], found[1]);
    return event.type === 'message' ? event.message : undefined;
  }

  compareCursors(a: string, b: string): number {
    return compareIds(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#listeners.push(listener);
  }

  onFeedLost(listener: () => void): void {
    this.#lostListeners.push(listener);
  }

  async isReady(): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false;
    return (await this.#redis.ping().catch(() => '')) === 'PONG';
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reader.disconnect();
    await this.#readerDone;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /**
   * The one blocking reader of this instance. It starts at the feed's
   * current end and keeps its position across Redis outages, so open streams
   * catch up without a gap when Redis returns; if the feed was trimmed past
   * that position meanwhile, the streams are restarted instead.
   */
  async #readFeed(start: string | undefined): Promise<void> {
    const feed = `${this.#prefix}feed`;
    let lastId = start;
    let backoffMs = 100;
    while (!this.#closed) {
      try {
        if (lastId === undefined) {
          // Redis was down at start: streams opened meanwhile replayed up to
          // some point we cannot line up with this position, so restart them.
          lastId = await this.#feedEnd();
          for (const listener of this.#lostListeners) listener();
        } else if (backoffMs > 100) {
          await this.#checkFeedCovers(feed, lastId);
        }
        const reply = (await this.#reader.xread(
          'COUNT',
          FEED_BATCH,
          'BLOCK',
          FEED_BLOCK_MS,
          'STREAMS',
          feed,
          lastId,
        )) as [string, Entry[]][] | null;
        backoffMs = 100;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.#deliver(fields);
          }
        }
      } catch {
        if (this.#closed) return;
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** The id of the feed's newest entry ('0-0' while there is no feed). */
  async #feedEnd(): Promise<string> {
    const [last] = (await this.#redis.xrevrange(`${this.#prefix}feed`, '+', '-', 'COUNT', 1)) as Entry[];
    return last?.[0] ?? '0-0';
  }

  /** After an outage: did the feed lose entries past `lastId`? */
  async #checkFeedCovers(feed: string, lastId: string): Promise<void> {
    const [first] = (await this.#reader.xrange(feed, '-', '+', 'COUNT', 1)) as Entry[];
    // No feed at all while we had a position: Redis lost its data (a restart
    // without persistence, a flush). Reading on from lastId is still right,
    // as new ids are later, but what was in the old feed is gone.
    const info = (await this.#reader.call('XINFO', 'STREAM', feed).catch(() => null)) as unknown[] | null;
    const added = Number(info?.[info.indexOf('entries-added') + 1] ?? 0);
    const length = Number(info?.[info.indexOf('length') + 1] ?? 0);
    const trimmedPast = first !== undefined && added > length && compareIds(first[0], lastId) > 0;
    if ((info === null && lastId !== '0-0') || trimmedPast) {
      for (const listener of this.#lostListeners) listener();
    }
  }

  #deliver(fields: string[]): void {
    const event = toEvent(fieldOf(fields, 'c'), fields);
    const wall = fieldOf(fields, 'w');
    for (const listener of this.#listeners) listener(wall, event);
  }

  #key(wall: string, what: 'events' | 'meta' | 'ids'): string {
    return `${this.#prefix}{${wall}}:${what}`;
  }
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

/** Stream ids compare by milliseconds, then by sequence (up to 2^64, so as digit strings). */
function compareIds(a: string, b: string): number {
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  return Number(aMs) - Number(bMs) || aSeq.length - bSeq.length || (aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0);
}

/** The id just before `id`: resuming after it yields `id` first. */
function before(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`;
  return `${Math.max(0, Number(ms) - 1)}-18446744073709551615`;
}
