import { Redis, type RedisOptions } from 'ioredis';
import type { RedisEndpoint } from '../../config.js';

/**
 * A connection to the Redis of `endpoint`, for the store and the post
 * budget alike. The cluster and sentinel endpoints of issue 19 are a case
 * each here (and in config.ts's parser), and nowhere else.
 */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions): Redis {
  switch (endpoint.mode) {
    case 'standalone':
      return new Redis(endpoint.url, options);
  }
}
