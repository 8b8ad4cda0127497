import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FeedEntry } from './entries.js';
import { compareStreamIds } from './stream-id.js';

/** How long one blocking read waits before it is issued again. */
const FEED_BLOCK_MS = 5000;
/** Feed entries taken per read. */
const FEED_BATCH = 1000;
/** First and longest wait between reads while Redis does not answer. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export interface FeedHandlers {
  /** Every feed entry, in feed order (which is cursor order per wall). */
  entry(fields: string[]): void;
  /** The feed moved on past entries this reader never got: every stream must restart. */
  lost(): void;
}

/**
 * The one blocking reader of the shared feed in this instance: the Redis
 * store's live feed. It keeps its position across Redis outages, so open
 * streams catch up without a gap when Redis returns; when it cannot line up
 * with the feed any more (the feed was trimmed past its position, or Redis
 * lost its data), it reports the loss instead of skipping silently.
 */
export class FeedReader {
  #stopped = false;
  #done: Promise<void> | undefined;

  constructor(
    /** The blocking connection: XREAD BLOCK holds it, so it serves nothing else. */
    private readonly reader: Redis,
    private readonly feedKey: string,
    private readonly handlers: FeedHandlers,
    private readonly log: Logger,
  ) {}

  /** Starts after `lastId`; undefined when the feed's end could not be read (Redis down at start). */
  start(lastId: string | undefined): void {
    this.#done = this.#run(lastId);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.reader.disconnect();
    await this.#done;
  }

  async #run(start: string | undefined): Promise<void> {
    let lastId = start;
    let backoffMs = FIRST_BACKOFF_MS;
    while (!this.#stopped) {
      try {
        if (lastId === undefined) {
          // Redis was down at start: streams opened meanwhile replayed up to
          // some point we cannot line up with this position, so restart them.
          lastId = await feedEnd(this.reader, this.feedKey);
          this.#lost('the feed position was only found after a startup outage');
        } else if (backoffMs > FIRST_BACKOFF_MS) {
          await this.#checkCovers(lastId);
        }
        const reply = (await this.reader.xread(
          'COUNT',
          FEED_BATCH,
          'BLOCK',
          FEED_BLOCK_MS,
          'STREAMS',
          this.feedKey,
          lastId,
        )) as [string, FeedEntry[]][] | null;
        if (backoffMs > FIRST_BACKOFF_MS) this.log.info({ after: lastId }, 'redis feed: reading again');
        backoffMs = FIRST_BACKOFF_MS;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.handlers.entry(fields);
          }
        }
      } catch (error) {
        if (this.#stopped) return;
        if (backoffMs === FIRST_BACKOFF_MS) {
          this.log.warn({ err: error, after: lastId }, 'redis feed: read failed, retrying until Redis answers');
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** After an outage: did the feed lose entries past `lastId`? */
  async #checkCovers(lastId: string): Promise<void> {
    const [first] = (await this.reader.xrange(this.feedKey, '-', '+', 'COUNT', 1)) as FeedEntry[];
    const info = (await this.reader.call('XINFO', 'STREAM', this.feedKey).catch(() => null)) as unknown[] | null;
    if (info === null) {
      // No feed at all while we had a position: Redis lost its data (a
      // restart without persistence, a flush). Reading on from lastId is
      // still right, as new ids are later, but what was in the old feed is gone.
      if (lastId !== '0-0') this.#lost('the feed is gone: Redis lost its data');
      return;
    }
    const added = Number(info[info.indexOf('entries-added') + 1] ?? 0);
    const length = Number(info[info.indexOf('length') + 1] ?? 0);
    if (first !== undefined && added > length && compareStreamIds(first[0], lastId) > 0) {
      this.#lost('the feed was trimmed past this instance while it was cut off');
    }
  }

  #lost(reason: string): void {
    this.log.warn({ reason }, 'redis feed: events were lost to this instance; restarting every stream');
    this.handlers.lost();
  }
}

/** The id of the feed's newest entry ('0-0' while there is no feed). */
export async function feedEnd(redis: Redis, feedKey: string): Promise<string> {
  const [last] = (await redis.xrevrange(feedKey, '+', '-', 'COUNT', 1)) as FeedEntry[];
  return last?.[0] ?? '0-0';
}
