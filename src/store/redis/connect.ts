import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
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

/** Logs when a connection is lost and when it is back, not each retry. */
export function reportConnection(redis: Redis, log: Logger): void {
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ err: error }, 'redis: not answering; posts and reads answer 503 until it is back');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info('redis: connection is back');
  });
}
