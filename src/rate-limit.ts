/**
 * The post budget of each client (`WALLCAST_RATE_LIMIT`): a fixed window of
 * so many posts, counted by rate-limiter-flexible. On the Redis store the
 * count lives in Redis, so every instance draws on one budget per client;
 * while Redis does not answer, each instance counts alone (its insurance)
 * rather than refusing posts or letting them all through.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisTarget } from './config.js';
import type { RateLimit } from './config-values.js';
import { connectRedis } from './store/redis/connect.js';

export class PostBudget {
  private constructor(
    private readonly limiter: RateLimiterMemory | RateLimiterRedis,
    private readonly redis?: Redis,
  ) {}

  static inMemory(limit: RateLimit): PostBudget {
    return new PostBudget(new RateLimiterMemory(options(limit)));
  }

  /** Counted in the store's Redis, under its key prefix. */
  static onRedis(limit: RateLimit, { endpoint, prefix }: RedisTarget): PostBudget {
    const redis = connectRedis(endpoint, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
    });
    // The store's own connection reports outages; here they only mean counting locally.
    redis.on('error', () => {});
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

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

function options(limit: RateLimit) {
  return { points: limit.posts, duration: Math.ceil(limit.perMs / 1000) };
}
