import type { Logger } from 'pino';
import { DEFAULT_REDIS_PARTITIONS, type RedisTarget } from '../../config-store.js';
import { type Message, type NewMessage, withCursor } from '../../message.js';
import {
  type AppendOptions,
  BYTES_SLACK,
  type EventListener,
  IDEMPOTENCY_TTL_MS,
  listedBefore,
  MAX_WALLS_LISTED,
  type MessageStore,
  messagesOf,
  type OlderPage,
  type ReadBeforeQuery,
  type ReadQuery,
  type ReadResult,
  type ResetReason,
  type StoreLimits,
  StoreOpenError,
  TRIM_SLACK,
  type WallEvent,
  WallLimitError,
  type WallList,
  type WallListQuery,
  wallListAfter,
  wallListPage,
} from '../store.js';
import { closeClient, connectRedis, reportConnection } from './connect.js';
import { toEvent } from './entries.js';
import { Housekeeping } from './housekeeping.js';
import { RedisKeys } from './keys.js';
import { PartitionFeeds } from './partition-feeds.js';
import { redisReady } from './readiness.js';
import { compareCursors, cursorBefore, formatCursor, newEpoch, parseCursor } from './redis-cursor.js';
import { redisUnavailable } from './refusals.js';
import { ReplicatedWrites } from './replicated-writes.js';
import { checkEndpointKind, prepareLayout } from './store-layout.js';
import { WallAdmission } from './wall-admission.js';
import { defineWallCommands, type ReadStatus, type ScriptedClient } from './wall-commands.js';

/**
 * Entries the partitions' feeds keep between them (each `~` its share, at
 * least 1000). A feed only has to cover an instance's outage: one that fell
 * further behind restarts its streams, and every client replays from its
 * own cursor. At the longest messages all of them take about 180 MB.
 */
const FEED_MAX_ENTRIES = 20_000;
/** Commands that take longer fail (a post answers 503 rather than hang). */
const COMMAND_TIMEOUT_MS = 2000;
/** How long `open` waits for a first connection before serving anyway (as not ready). */
const CONNECT_WAIT_MS = 3000;

/**
 * One Redis Stream per wall, `{epoch}-{entry id}` as cursors, walls hashed
 * into partitions each with a feed of its own that this instance's readers
 * turn into the live feed, so any number of instances behave as one wall,
 * on one Redis, a Sentinel-managed primary or a cluster alike (scripts.ts
 * has the keys, partitions.ts why partitions).
 */
export class RedisStreamStore implements MessageStore {
  readonly #redis: ScriptedClient;
  readonly #keys: RedisKeys;
  readonly #writes: ReplicatedWrites;
  readonly #admission: WallAdmission;
  readonly #feeds: PartitionFeeds;
  readonly #feedLength: number;
  readonly #wait: number;
  readonly #housekeeping: Housekeeping;
  /** Set once prepareLayout has run against this Redis. */
  #prepared = false;
  #preparing: Promise<void> | undefined;

  private constructor(
    private readonly target: RedisTarget,
    readonly limits: StoreLimits,
    private readonly log: Logger,
  ) {
    const partitions = target.partitions ?? DEFAULT_REDIS_PARTITIONS;
    this.#keys = new RedisKeys(target.prefix, partitions);
    this.#wait = target.wait ?? 0;
    this.#feedLength = Math.max(1000, Math.ceil(FEED_MAX_ENTRIES / partitions));
    const redis = connectRedis(target.endpoint, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    reportConnection(redis, log);
    this.#redis = defineWallCommands(redis);
    this.#writes = new ReplicatedWrites(this.#redis, target.endpoint, this.#wait, COMMAND_TIMEOUT_MS);
    this.#admission = new WallAdmission(redis, this.#keys);
    this.#feeds = new PartitionFeeds(target.endpoint, this.#keys, this.#wait, log);
    this.#housekeeping = new Housekeeping(this.#redis, this.#keys, this.#admission, limits.retentionMs, log);
  }

  /**
   * Connects (waiting a few seconds at most), makes sure of the layout
   * (store-layout.ts) and starts the feed readers. Refuses, with a
   * StoreOpenError, an endpoint of the wrong kind or data of another layout.
   */
  static async open(target: RedisTarget, limits: StoreLimits, log: Logger): Promise<RedisStreamStore> {
    const store = new RedisStreamStore(target, limits, log);
    try {
      const connected = await store.#writes.connected(CONNECT_WAIT_MS);
      await checkEndpointKind(target.endpoint, connected);
      if (connected) await store.#prepare();
    } catch (error) {
      if (error instanceof StoreOpenError) {
        await store.close();
        throw error;
      }
      // Redis answered, then did not: the layout is made sure of before the first command.
      log.warn({ err: error }, 'redis: could not prepare the store at start; trying again at the first request');
    }
    // The feed positions are taken before the store is handed out, so that
    // the readers see every append made through it.
    await store.#feeds.start(store.#redis);
    return store;
  }

  async append(draft: NewMessage, options: AppendOptions = {}): Promise<Message> {
    const { historySize, historyBytes, maxWalls } = this.limits;
    const { events, meta, ids, keys, partition } = this.#keys.wall(draft.wall);
    await this.#ready('post');
    const append = (admitted: boolean) =>
      this.#writes.run(
        'post',
        (client) =>
          client.wallAppend(
            events,
            meta,
            ids,
            partition.feed,
            partition.epoch,
            partition.active,
            keys,
            newEpoch(),
            historySize,
            historyBytes,
            TRIM_SLACK,
            Math.ceil(historyBytes * BYTES_SLACK),
            admitted ? 1 : 0,
            draft.id,
            JSON.stringify(draft),
            draft.wall,
            this.#feedLength,
            options.idempotencyKey ?? '',
            IDEMPOTENCY_TTL_MS,
          ),
        (reply) => reply[0] !== 'admit',
      );
    let reply = await append(false);
    if (reply[0] === 'admit') {
      // Nothing of the post was stored, whatever becomes of the admission.
      const room = await this.#call('post', () => this.#admission.admit(draft.wall, maxWalls), { certain: true });
      if (!room) throw new WallLimitError(maxWalls);
      reply = await append(true);
      if (reply[0] === 'admit') throw new Error('the append script asked for an admission twice');
    }
    if (reply[0] === 'stored') return withCursor(draft, formatCursor(reply[1], reply[2]));
    const [, epoch, entry, json] = reply;
    return withCursor(JSON.parse(json) as NewMessage, formatCursor(epoch, entry));
  }

  async delete(wall: string, id: string): Promise<WallEvent | undefined> {
    const { events, meta, ids, keys, partition } = this.#keys.wall(wall);
    await this.#ready('delete');
    const reply = await this.#writes.run(
      'delete',
      (client) =>
        client.wallDelete(
          events,
          meta,
          ids,
          partition.feed,
          partition.epoch,
          keys,
          partition.active,
          newEpoch(),
          id,
          wall,
          this.#feedLength,
        ),
      (deleted) => deleted !== null,
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
    const messages = messagesOf(events);
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
    const { events, meta, partition } = this.#keys.wall(wall);
    await this.#ready('read');
    const [status, epoch, head, entries, more] = await this.#call('read', () =>
      this.#redis.wallRead(
        events,
        meta,
        partition.epoch,
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

  /** Each partition's page of its active set, merged into one, then the heads of the walls shown. */
  async listWalls(query: WallListQuery): Promise<WallList> {
    const after = wallListAfter(query.after);
    const limit = Math.min(query.limit, MAX_WALLS_LISTED);
    await this.#ready('read');
    return this.#call('read', async () => {
      const pages = await Promise.all(
        this.#keys.partitions.all().map(async (index) => {
          const { active, epoch } = this.#keys.partition(index);
          const args = [newEpoch(), after?.atMs ?? '', after?.wall ?? '', limit + 1];
          const [partitionEpoch, flat] = await this.#redis.wallList(active, epoch, ...args);
          const walls = [];
          for (let i = 0; i < flat.length; i += 2) {
            walls.push({ wall: flat[i] as string, atMs: Number(flat[i + 1]), index, epoch: partitionEpoch });
          }
          return walls;
        }),
      );
      const listed = pages.flat().sort((a, b) => (listedBefore(a, b) ? -1 : listedBefore(b, a) ? 1 : 0));
      const shown = listed.slice(0, limit);
      // Heads are in each wall's meta hash: one pipeline per partition (one slot each).
      const heads = new Map<string, string>();
      await Promise.all(
        this.#keys.partitions.all().map(async (index) => {
          const walls = shown.filter((w) => w.index === index).map((w) => w.wall);
          if (walls.length === 0) return;
          const pipeline = this.#redis.pipeline();
          for (const wall of walls) pipeline.hget(this.#keys.wall(wall).meta, 'head');
          for (const [i, [error, head]] of ((await pipeline.exec()) ?? []).entries()) {
            if (error) throw error;
            heads.set(walls[i] as string, (head as string | null) ?? '0-0');
          }
        }),
      );
      return wallListPage(listed, limit, ({ wall, epoch }) => formatCursor(epoch, heads.get(wall) ?? '0-0'));
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
    const { events, partition } = this.#keys.wall(wall);
    await this.#ready('read');
    const found = await this.#call('read', () =>
      this.#redis.wallFind(partition.epoch, lookup, events, field, Math.floor(afterMs)),
    );
    if (found === null) return undefined;
    const event = toEvent(formatCursor(found[0], found[1]), found[2]);
    return event.type === 'message' ? event.message : undefined;
  }

  compareCursors(a: string, b: string): number {
    return compareCursors(a, b);
  }

  onEvent(listener: EventListener): void {
    this.#feeds.onEvent(listener);
  }

  onFeedLost(listener: () => void): void {
    this.#feeds.onLost(listener);
  }

  async isReady(): Promise<boolean> {
    try {
      await this.#ready('read');
    } catch {
      return false;
    }
    return redisReady(this.#redis, this.#keys, this.#wait);
  }

  /** Ends within a few seconds whatever Redis does (issue 19): every step is bounded. */
  async close(): Promise<void> {
    this.#housekeeping.stop();
    await this.#feeds.stop();
    await this.#writes.close();
    await closeClient(this.#redis);
  }

  /** prepareLayout, once per store (and again after a failure). */
  #prepare(): Promise<void> {
    this.#preparing ??= prepareLayout(this.#redis, this.#keys, this.target.endpoint.mode, this.log)
      .then(() => {
        this.#prepared = true;
        this.#housekeeping.start();
      })
      .finally(() => {
        this.#preparing = undefined;
      });
    return this.#preparing;
  }

  /** Makes sure of the layout before the first command (Redis did not answer at open, say). */
  async #ready(operation: 'post' | 'read' | 'delete'): Promise<void> {
    if (this.#prepared) return;
    try {
      await this.#prepare();
    } catch (error) {
      if (error instanceof StoreOpenError) this.log.error({ err: error }, `redis: ${error.message}`);
      throw redisUnavailable(operation, error, true);
    }
  }

  /** Runs a command; Redis not answering (down, cut off, too slow, refusing) makes the store unavailable. */
  async #call<T>(operation: 'post' | 'read' | 'delete', command: () => Promise<T>, options = { certain: false }) {
    try {
      return await command();
    } catch (error) {
      throw redisUnavailable(operation, error, options.certain);
    }
  }
}
