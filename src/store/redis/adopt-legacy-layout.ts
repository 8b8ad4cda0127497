/**
 * wallcast before partitions (0.2, 0.3) kept one epoch, one feed and one
 * set of walls for the whole deployment, and each wall's keys under the
 * tag `{wall}` (keys.ts, `legacy`). A single Redis (or a Sentinel-managed
 * primary) holding such keys has them moved into partitions when the store
 * first reaches it, before it serves anything:
 *
 * - every partition takes the old epoch (unless it has one), so that every
 *   cursor handed out before resumes exactly;
 * - each wall's four keys are renamed to its partition's names, joined to
 *   the partition's active set (0.2's set of walls scored by the newest
 *   event) and admitted against `maxWalls`, one wall per script, so that
 *   instances starting together move each wall once;
 * - the old feed, set of walls and epoch go last: from then on an instance
 *   of an older wallcast still running on the same Redis (its posts would
 *   go where no instance of this one looks) is seen by the old feed coming
 *   back, and logged (redis-store.ts's sweep).
 *
 * Renaming keeps every entry id, so history, cursors, idempotency keys and
 * trimming bounds are as they were; streams opened before the upgrade
 * reconnect and resume from their cursors. Older instances must all be
 * stopped first: this is no rolling upgrade. A cluster never held these
 * keys (wallcast refused to run there before partitions).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from './keys.js';

/**
 * KEYS: the old events, meta, ids, keys; the new events, meta, ids, keys;
 * the partition's active set; the admitted set. ARGV: wall, its score
 * ('' to read it from its newest entry). `moved`, `none` (no old stream),
 * or `kept` (the wall has new keys already: the old ones are left alone).
 */
const MOVE_WALL = `
local wall, score = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return 'none' end
if redis.call('EXISTS', KEYS[5]) == 1 then return 'kept' end
if score == '' then
  local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  score = string.match(newest[1], '^(%d+)-')
end
for i = 1, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[i + 4]) end
end
redis.call('ZADD', KEYS[9], score, wall)
redis.call('ZADD', KEYS[10], 'NX', score, wall)
return 'moved'
`;

/** Walls moved per pipeline. */
const MOVE_BATCH = 100;

export async function adoptLegacyLayout(redis: Redis, keys: RedisKeys, log: Logger): Promise<void> {
  const { legacy } = keys;
  if ((await redis.exists(legacy.epoch, legacy.active, legacy.wallSet)) === 0) return;
  const epoch = await redis.get(legacy.epoch);
  if (epoch !== null) {
    const pipeline = redis.pipeline();
    for (const index of keys.partitions.all()) pipeline.set(keys.partition(index).epoch, epoch, 'NX');
    await pipeline.exec();
  }
  const counts = { moved: 0, none: 0, kept: 0 };
  const move = async (walls: [wall: string, score: string][]) => {
    const pipeline = redis.pipeline();
    for (const [wall, score] of walls) {
      const old = legacy.wall(wall);
      const now = keys.wall(wall);
      pipeline.eval(
        MOVE_WALL,
        10,
        old.events,
        old.meta,
        old.ids,
        old.keys,
        now.events,
        now.meta,
        now.ids,
        now.keys,
        now.partition.active,
        keys.admission.admitted,
        wall,
        score,
      );
    }
    for (const [error, outcome] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      counts[outcome as keyof typeof counts]++;
    }
  };
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(legacy.active, cursor, 'COUNT', MOVE_BATCH);
    const walls: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) walls.push([flat[i] as string, flat[i + 1] as string]);
    await move(walls);
    cursor = next;
  } while (cursor !== '0');
  do {
    const [next, walls] = await redis.sscan(legacy.wallSet, cursor, 'COUNT', MOVE_BATCH);
    await move(walls.map((wall) => [wall, '']));
    cursor = next;
  } while (cursor !== '0');
  await redis.del(legacy.feed, legacy.active, legacy.wallSet);
  await redis.del(legacy.epoch);
  log.info(
    { walls: counts.moved, partitions: keys.partitions.count },
    'redis: the keys of wallcast 0.3 or older are now in partitions; cursors from before resume',
  );
  if (counts.kept > 0) {
    log.warn(
      { walls: counts.kept },
      'redis: walls had keys in both layouts (an older wallcast posted after an upgrade?); their old keys are left as they were',
    );
  }
}
