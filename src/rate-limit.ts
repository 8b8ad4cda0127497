/**
 * The post budget of each client (`WALLCAST_RATE_LIMIT`): a fixed window of
 * so many posts, counted by rate-limiter-flexible. On the Redis store the
 * count lives in Redis, so every instance draws on one budget per client;
 * while Redis does not answer, each instance counts alone (its insurance)
 * rather than refusing posts or letting them all through.
 */
import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisTarget } from './config-store.js';
import type { RateLimit } from './config-values.js';
import { closeClient, connectRedis, type RedisClient } from './store/redis/connect.js';

export class PostBudget {
  private constructor(
    private readonly limiter: RateLimiterMemory | RateLimiterRedis | RateLimiterCluster,
    private readonly redis?: RedisClient,
  ) {}

  static inMemory(limit: RateLimit): PostBudget {
    return new PostBudget(new RateLimiterMemory(options(limit)));
  }

  /**
   * Counted by the primary of a machine running workers (its
   * RateLimiterClusterMaster, primary.ts): one budget per client whichever
   * worker a post lands on.
   */
  static acrossWorkers(limit: RateLimit): PostBudget {
    return new PostBudget(new RateLimiterCluster({ ...options(limit), keyPrefix: 'posts', timeoutMs: 1000 }));
  }

  /**
   * Counted in the store's Redis, under its key prefix: one Redis, the
   * primary Sentinels name, or a cluster (each client's count is one key,
   * in a slot of its own, and rate-limiter-flexible's script touches only it).
   */
  static onRedis(limit: RateLimit, { endpoint, prefix }: RedisTarget): PostBudget {
    const redis = connectRedis(endpoint, { commandTimeoutMs: 500 });
    // The store's own connection reports outages; here they only mean counting locally.
    redis.on('error', () => {});
    if (redis.isCluster) redis.on('node error', () => {});
    const limiter = new RateLimiterRedis({
      ...options(limit),
      storeClient: redis,
      keyPrefix: `${prefix}rate`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options(limit)),
    });
    return new PostBudget(limiter, redis);
  }

  /** Takes one post from `client`'s budget: 0 when it may go ahead, else the seconds until it may. */
  async take(client: string): Promise<number> {
    try {
      await this.limiter.consume(client);
      return 0;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw refusal;
    }
  }

  /** Gives back the post `take` counted, when nothing was stored after all (refused by a bound, a replay). */
  async refund(client: string): Promise<void> {
    await this.limiter.reward(client, 1).catch(() => {});
  }

  /** Ends within a second whatever Redis does (connect.ts, `closeClient`). */
  async close(): Promise<void> {
    if (this.redis !== undefined) await closeClient(this.redis);
  }
}

function options(limit: RateLimit) {
  return { points: limit.posts, duration: Math.ceil(limit.perMs / 1000) };
}
