import type { Logger } from 'pino';
import type { RedisEndpoint } from '../../config-store.js';
import { LiveFeed } from '../live-feed.js';
import type { EventListener } from '../store.js';
import { connectRedis, type RedisClient } from './connect.js';
import { fieldOf, toEvent } from './entries.js';
import { FEED_BLOCK_MS, type FeedPosition, FeedReader, feedEnd } from './feed-reader.js';
import type { RedisKeys } from './keys.js';
import { formatCursor } from './redis-cursor.js';

/**
 * A reader's connection that heard nothing this long after its read was
 * sent is dropped and made again (a stopped Redis, a cut network): well past
 * a blocking read's own end.
 */
const READER_SOCKET_TIMEOUT_MS = FEED_BLOCK_MS + 2000;

/**
 * The Redis store's live feed: every partition's feed, followed by this
 * instance's readers (one for all partitions on a single Redis, one per
 * partition on a cluster: feed-reader.ts says why), turned into events for
 * the `onEvent` listeners, and feed loss for the `onFeedLost` ones.
 *
 * With `?wait=N` the readers read from replicas (a cluster's, or those the
 * Sentinels name): a stream then shows only what a replica has, which a
 * failover keeps (Redis Cluster and Sentinel promote the replica that has
 * the most), and never a post whose primary died before passing it on,
 * whose 503 told its client to retry. A write is acknowledged only once a
 * replica has it, so this costs the live feed nothing the post did not
 * wait for already.
 */
export class PartitionFeeds {
  readonly #live = new LiveFeed();
  readonly #lost: (() => void)[] = [];
  /** Each partition's epoch in the entries read so far: another one means its Redis lost its data under us. */
  readonly #epochs: (string | undefined)[] = [];
  readonly #readers: FeedReader[] = [];

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly keys: RedisKeys,
    /** `?wait=N`: with N > 0, the feeds are read from replicas. */
    private readonly wait: number,
    private readonly log: Logger,
  ) {}

  /**
   * Takes each feed's end and epoch through `redis` (before the store is
   * handed out, so that the readers see every append made through it), then
   * starts the readers. A feed whose end could not be read is found later.
   */
  async start(redis: RedisClient): Promise<void> {
    const partitions = this.keys.partitions.all().map((index) => this.keys.partition(index));
    const feeds: FeedPosition[] = await Promise.all(
      partitions.map(async ({ index, feed, epoch }) => {
        this.#epochs[index] = (await redis.get(epoch).catch(() => null)) ?? undefined;
        return { partition: index, key: feed, lastId: await feedEnd(redis, feed).catch(() => undefined) };
      }),
    );
    const groups = this.endpoint.mode === 'cluster' ? feeds.map((feed) => [feed]) : [feeds];
    for (const group of groups) {
      const connection = connectRedis(this.endpoint, {
        socketTimeoutMs: READER_SOCKET_TIMEOUT_MS,
        readFrom: this.wait > 0 ? 'replica' : 'primary',
        connectEveryNode: false,
      });
      // The command connection reports outages; a reader's own errors are its retries.
      connection.on('error', () => {});
      if (connection.isCluster) connection.on('node error', () => {});
      const reader = new FeedReader(
        connection,
        group,
        { entry: (partition, fields) => this.#deliver(partition, fields), lost: () => this.#lose() },
        this.log,
      );
      reader.start();
      this.#readers.push(reader);
    }
  }

  onEvent(listener: EventListener): void {
    this.#live.add(listener);
  }

  onLost(listener: () => void): void {
    this.#lost.push(listener);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#readers.map((reader) => reader.stop()));
    this.#live.clear();
  }

  #deliver(partition: number, fields: string[]): void {
    const epoch = fieldOf(fields, 'e');
    const known = this.#epochs[partition];
    if (known !== undefined && epoch !== known) {
      this.log.warn({ partition, was: known, now: epoch }, 'redis: a new history epoch: Redis lost its data');
      this.#lose();
    }
    this.#epochs[partition] = epoch;
    this.#live.emit(fieldOf(fields, 'w'), toEvent(formatCursor(epoch, fieldOf(fields, 'c')), fields));
  }

  #lose(): void {
    for (const listener of this.#lost) listener();
  }
}
