import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FeedEntry } from './entries.js';
import type { RedisKeys } from './keys.js';
import { streamIdMs } from './stream-id.js';

/**
 * wallcast 0.2 kept the walls with history in a set; the `active` sorted
 * set replaced it (scripts.ts). Each wall of the old set that still has
 * events joins the new one, scored by its newest event (NX: a wall that an
 * append scored meanwhile keeps that score), and the old set goes, so this
 * runs once. A store runs it when it opens.
 */
export async function adoptWallSet(redis: Redis, keys: RedisKeys, log: Logger): Promise<void> {
  if ((await redis.exists(keys.wallSet)) === 0) return;
  let cursor = '0';
  do {
    const [next, walls] = await redis.sscan(keys.wallSet, cursor, 'COUNT', 100);
    for (const wall of walls) {
      const [newest] = (await redis.xrevrange(keys.wall(wall).events, '+', '-', 'COUNT', 1)) as FeedEntry[];
      if (newest !== undefined) await redis.zadd(keys.active, 'NX', streamIdMs(newest[0]), wall);
    }
    cursor = next;
  } while (cursor !== '0');
  await redis.del(keys.wallSet);
  log.info('redis: the wall set of wallcast 0.2 is now the active set');
}
