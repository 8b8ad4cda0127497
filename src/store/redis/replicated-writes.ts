/**
 * The store's writes (appends and deletes), and what acknowledges them.
 *
 * By default a write is acknowledged once the primary has it: Redis
 * replicates asynchronously, so a primary lost in a failover takes the
 * writes it had not passed on yet. With `?wait=N` (issue 19, point 3) each
 * write script is followed on its own connection by `WAIT N`, in one
 * pipeline, and a write counts only once N replicas have it: a write whose
 * replication was not confirmed in time is an uncertain failure (the post's
 * 503 that a retry with its `Idempotency-Key` settles: stored once, and
 * confirmed then).
 *
 * WAIT holds its connection until the replicas answer, so these writes
 * have a connection of their own, and reads are never queued behind them.
 *
 * On a cluster, ioredis sends a single command again where MOVED points,
 * but not a pipeline whose WAIT went through (the notes behind issue 19):
 * a pipeline refused with a redirection did not run, so it is sent again
 * here, after the slot map is refreshed.
 */
import type { RedisEndpoint } from '../../config-store.js';
import { StoreUnavailableError } from '../store.js';
import { closeClient, connected, connectRedis, isCluster } from './connect.js';
import { RETRY_AFTER_SECONDS, redisUnavailable, worthRetrying } from './refusals.js';
import { defineWallCommands, type ScriptedClient, type ScriptedPipeline, type WallCommands } from './wall-commands.js';

/** How long WAIT waits for the replicas: their acknowledgement takes a round trip; well within the command timeout. */
const WAIT_TIMEOUT_MS = 1000;
/** Times a write refused with a redirection is sent: a failover moves a slot once. */
const WRITE_ATTEMPTS = 4;
/** Pause before sending a redirected write again, as ioredis does for its own. */
const REDIRECT_PAUSE_MS = 100;

export type WriteOperation = 'post' | 'delete';

export class ReplicatedWrites {
  readonly #writer: ScriptedClient;

  constructor(
    private readonly redis: ScriptedClient,
    endpoint: RedisEndpoint,
    private readonly wait: number,
    commandTimeoutMs: number,
  ) {
    if (wait === 0) this.#writer = redis;
    else {
      const writer = connectRedis(endpoint, { commandTimeoutMs });
      // The store's command connection reports outages; the writer's are the same ones.
      writer.on('error', () => {});
      if (isCluster(writer)) writer.on('node error', () => {});
      this.#writer = defineWallCommands(writer);
    }
  }

  /** Whether the store's connections are ready within `ms`. */
  async connected(ms: number): Promise<boolean> {
    const clients = this.#writer === this.redis ? [this.redis] : [this.redis, this.#writer];
    return (await Promise.all(clients.map((client) => connected(client, ms)))).every(Boolean);
  }

  /**
   * Runs one write script (`script` calls it on the client or pipeline it is
   * given) and, with `?wait=N`, its WAIT. `wrote` tells whether a reply
   * changed anything, whose replication then needs confirming. Throws a
   * StoreUnavailableError that says whether the write may have happened.
   */
  async run<T>(
    operation: WriteOperation,
    script: (client: WallCommands) => Promise<T>,
    wrote: (reply: T) => boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.wait === 0) return await script(this.#writer);
        const pipeline = this.#writer.pipeline() as ScriptedPipeline;
        // On a pipeline the script's call only queues it: its reply comes from exec.
        void script(pipeline as unknown as WallCommands);
        pipeline.wait(this.wait, WAIT_TIMEOUT_MS);
        const [written, waited] = (await pipeline.exec()) ?? [];
        if (written?.[0]) throw written[0];
        const reply = written?.[1] as T;
        const replicas = waited?.[0] ? 0 : Number(waited?.[1]);
        if (wrote(reply) && replicas < this.wait) {
          throw new StoreUnavailableError(
            `Redis stored the ${operation}, but ${replicas} of ${this.wait} replicas confirmed it in time.`,
            { cause: waited?.[0] ?? undefined, retryAfterSeconds: RETRY_AFTER_SECONDS, uncertain: true },
          );
        }
        return reply;
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        if (attempt < WRITE_ATTEMPTS && worthRetrying(error)) {
          await this.#followRedirection();
          continue;
        }
        throw redisUnavailable(operation, error);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#writer !== this.redis) await closeClient(this.#writer);
  }

  /** A cluster's slot map is read again (bounded by ioredis's slotsRefreshTimeout); then a short pause. */
  async #followRedirection(): Promise<void> {
    const writer = this.#writer;
    if (isCluster(writer)) await new Promise<void>((resolve) => writer.refreshSlotsCache(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, REDIRECT_PAUSE_MS));
  }
}
