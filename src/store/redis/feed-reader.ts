import type { Logger } from 'pino';
import type { RedisClient } from './connect.js';
import type { FeedEntry } from './entries.js';
import { compareStreamIds } from './stream-id.js';

/** How long one blocking read waits before it is issued again. */
export const FEED_BLOCK_MS = 5000;
/** Feed entries taken per feed and read. */
const FEED_BATCH = 1000;
/** First and longest wait between reads while Redis does not answer. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;
/** How long `stop` waits for a read in flight to give up before it lets go of it. */
const STOP_WAIT_MS = 1000;

/** A partition's feed, and where this reader stands in it. */
export interface FeedPosition {
  partition: number;
  key: string;
  /** The id of the last entry read; undefined when the feed's end could not be read (Redis down at start). */
  lastId: string | undefined;
}

export interface FeedHandlers {
  /** Every entry of a feed, in feed order (which is cursor order per wall). */
  entry(partition: number, fields: string[]): void;
  /** A feed moved on past entries this reader never got: every stream must restart. */
  lost(partition: number): void;
}

interface Lost {
  feed: FeedPosition;
  reason: string;
}

/**
 * A blocking reader of one or more partitions' feeds over one connection:
 * the Redis store's live feed. A single Redis takes every partition's feed
 * in one XREAD; a cluster's feeds are in as many slots, and XREAD cannot
 * span slots, so there each partition has a reader (and a connection) of
 * its own (partition-feeds.ts). Each feed keeps its own position across
 * outages, failovers included, so open streams catch up without a gap when
 * Redis answers again; when a feed cannot be lined up with any more (it was
 * trimmed past the position, or its Redis lost its data), the reader
 * reports the loss instead of skipping silently.
 */
export class FeedReader {
  #stopped = false;
  #done: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #feeds: FeedPosition[];

  constructor(
    /** The blocking connection: XREAD BLOCK holds it, so it serves nothing else. */
    private readonly reader: RedisClient,
    feeds: FeedPosition[],
    private readonly handlers: FeedHandlers,
    private readonly log: Logger,
  ) {
    this.#feeds = feeds.map((feed) => ({ ...feed }));
  }

  start(): void {
    this.#done = this.#run();
  }

  /** Stops within STOP_WAIT_MS, whatever Redis does. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.reader.disconnect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#done, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  async #run(): Promise<void> {
    let backoffMs = FIRST_BACKOFF_MS;
    while (!this.#stopped) {
      // A connection not made yet (or being made again) is waited for, not read from and logged.
      if (this.reader.status !== 'ready') {
        await this.#pause((wake) => {
          this.reader.once('ready', wake);
          return () => this.reader.off('ready', wake);
        });
        continue;
      }
      try {
        const lost: Lost[] = [];
        for (const feed of this.#feeds) {
          if (feed.lastId === undefined) {
            // Redis was down at start: streams opened meanwhile replayed up to
            // some point we cannot line up with this position, so restart them.
            feed.lastId = await feedEnd(this.reader, feed.key);
            lost.push({ feed, reason: 'the feed position was only found after a startup outage' });
          } else if (backoffMs > FIRST_BACKOFF_MS) {
            const reason = await this.#checkCovers(feed, feed.lastId);
            if (reason !== undefined) lost.push({ feed, reason });
          }
        }
        this.#lost(lost);
        const keys = this.#feeds.map((feed) => feed.key);
        const ids = this.#feeds.map((feed) => feed.lastId as string);
        const reply = (await this.reader.xread(
          'COUNT',
          FEED_BATCH,
          'BLOCK',
          FEED_BLOCK_MS,
          'STREAMS',
          ...keys,
          ...ids,
        )) as [string, FeedEntry[]][] | null;
        if (backoffMs > FIRST_BACKOFF_MS) this.log.info({ feeds: keys }, 'redis feed: reading again');
        backoffMs = FIRST_BACKOFF_MS;
        for (const [key, entries] of reply ?? []) {
          const feed = this.#feeds.find((f) => f.key === key);
          if (feed === undefined) continue;
          for (const [id, fields] of entries) {
            feed.lastId = id;
            this.handlers.entry(feed.partition, fields);
          }
        }
      } catch (error) {
        if (this.#stopped) return;
        if (backoffMs === FIRST_BACKOFF_MS) {
          this.log.warn(
            { err: error, feeds: this.#feeds.map((f) => f.key) },
            'redis feed: read failed, retrying until Redis answers',
          );
        }
        await this.#pause((wake) => {
          const timer = setTimeout(wake, backoffMs);
          return () => clearTimeout(timer);
        });
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Waits until what `arm` set up calls back, or `stop` is called; then undoes it. */
  async #pause(arm: (wake: () => void) => () => void): Promise<void> {
    if (this.#stopped) return;
    let disarm = () => {};
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      disarm = arm(resolve);
    });
    disarm();
    this.#wake = undefined;
  }

  /** After an outage: did the feed lose entries past `lastId`? Why, when it did. */
  async #checkCovers(feed: FeedPosition, lastId: string): Promise<string | undefined> {
    const [first] = (await this.reader.xrange(feed.key, '-', '+', 'COUNT', 1)) as FeedEntry[];
    const info = (await this.reader.call('XINFO', 'STREAM', feed.key).catch(() => null)) as unknown[] | null;
    if (info === null) {
      // No feed at all while we had a position: Redis lost its data (a
      // restart without persistence, a flush). Reading on from lastId is
      // still right, as new ids are later, but what was in the old feed is gone.
      return lastId === '0-0' ? undefined : 'the feed is gone: Redis lost its data';
    }
    const added = Number(info[info.indexOf('entries-added') + 1] ?? 0);
    const length = Number(info[info.indexOf('length') + 1] ?? 0);
    if (first !== undefined && added > length && compareStreamIds(first[0], lastId) > 0) {
      return 'the feed was trimmed past this instance while it was cut off';
    }
    return undefined;
  }

  /** One line for the feeds lost in one round, however many. */
  #lost(lost: Lost[]): void {
    if (lost.length === 0) return;
    this.log.warn(
      { feeds: lost.map(({ feed, reason }) => ({ feed: feed.key, reason })) },
      'redis feed: events were lost to this instance; restarting every stream',
    );
    for (const { feed } of lost) this.handlers.lost(feed.partition);
  }
}

/** The id of the feed's newest entry ('0-0' while there is no feed). */
export async function feedEnd(redis: RedisClient, feedKey: string): Promise<string> {
  const [last] = (await redis.xrevrange(feedKey, '+', '-', 'COUNT', 1)) as FeedEntry[];
  return last?.[0] ?? '0-0';
}
