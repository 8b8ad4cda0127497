/**
 * `maxWalls` across partitions (issue 19: "the wall bound becomes its own
 * single-slot admission step"). A wall's partition cannot count the walls
 * of the others, so the walls counted against the bound are kept in a set
 * of their own, `{prefix}{walls}:admitted`, in a slot of its own:
 *
 * - The append script answers `admit` for a wall without history, having
 *   stored nothing; the store then runs ADMIT (room left, or the wall is
 *   counted already) and appends again. A wall with history is never asked
 *   about again: one round trip per post, as before.
 * - The retention script takes a wall without history left off its
 *   partition's active set; the store then RELEASEs it, and a new wall may
 *   take its place at once.
 * - Both steps also note the wall in `{prefix}{walls}:pending`, by Redis's
 *   time. A post whose append failed after its wall was admitted (a wall
 *   counted with no history), or that raced a release (history, and not
 *   counted), is settled once its notes are SETTLE_AFTER_MS old, by
 *   checking the wall's partition: far longer than any post takes.
 */
import type { RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** How old an admission or release must be before it is checked against its wall's history. */
export const SETTLE_AFTER_MS = 30_000;
/** Walls settled per sweep: the sweep runs again soon. */
const SETTLE_BATCH = 100;

const NOW = `
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/** KEYS: admitted, pending. ARGV: wall, max walls. 1 when the wall is (now) counted, 0 when there is no room. */
const ADMIT = `${NOW}
local admitted_key, pending_key = KEYS[1], KEYS[2]
local wall = ARGV[1]
if not redis.call('ZSCORE', admitted_key, wall) then
  if redis.call('ZCARD', admitted_key) >= tonumber(ARGV[2]) then return 0 end
  redis.call('ZADD', admitted_key, now_ms, wall)
end
redis.call('ZADD', pending_key, now_ms, wall)
return 1
`;

/** KEYS: admitted, pending. ARGV: wall. */
const RELEASE = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now_ms, ARGV[1])
return 1
`;

/** KEYS: pending. ARGV: age (ms), count. The walls noted at least that long ago: `{wall, score, …}`. */
const DUE = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms - tonumber(ARGV[1]), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
`;

/**
 * KEYS: admitted, pending. ARGV: wall, the score DUE saw, whether the wall
 * has history (`1`/`0`). A wall noted again since (a post admitted it) is
 * left for a later sweep.
 */
const SETTLE = `${NOW}
local admitted_key, pending_key = KEYS[1], KEYS[2]
local wall = ARGV[1]
if tonumber(redis.call('ZSCORE', pending_key, wall)) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '1' then redis.call('ZADD', admitted_key, 'NX', now_ms, wall)
else redis.call('ZREM', admitted_key, wall) end
redis.call('ZREM', pending_key, wall)
return 1
`;

/** The scripts' texts, for test/unit/redis-key-slots.test.ts. */
export const ADMISSION_SCRIPTS = { ADMIT, RELEASE, DUE, SETTLE } as const;

type Script = (...keysThenArgs: (string | number)[]) => Promise<unknown>;
interface AdmissionScripts {
  wallAdmit: Script;
  wallRelease: Script;
  wallsDue: Script;
  wallSettle: Script;
}

export class WallAdmission {
  readonly #redis: RedisClient & AdmissionScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('wallAdmit', { numberOfKeys: 2, lua: ADMIT });
    redis.defineCommand('wallRelease', { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand('wallsDue', { numberOfKeys: 1, lua: DUE });
    redis.defineCommand('wallSettle', { numberOfKeys: 2, lua: SETTLE });
    this.#redis = redis as RedisClient & AdmissionScripts;
  }

  /** Counts `wall` against `maxWalls`: false when the store holds that many already. */
  async admit(wall: string, maxWalls: number): Promise<boolean> {
    const { admitted, pending } = this.keys.admission;
    return (await this.#redis.wallAdmit(admitted, pending, wall, maxWalls)) === 1;
  }

  /** `wall` has no history left (the retention emptied it): it stops counting. */
  async release(wall: string): Promise<void> {
    const { admitted, pending } = this.keys.admission;
    await this.#redis.wallRelease(admitted, pending, wall);
  }

  /** Settles the walls noted SETTLE_AFTER_MS ago or more: counted exactly when they have history. */
  async settle(): Promise<void> {
    const { admitted, pending } = this.keys.admission;
    const due = (await this.#redis.wallsDue(pending, SETTLE_AFTER_MS, SETTLE_BATCH)) as string[];
    for (let i = 0; i < due.length; i += 2) {
      const wall = due[i] as string;
      const active = this.keys.wall(wall).partition.active;
      const hasHistory = (await this.#redis.zscore(active, wall)) !== null;
      await this.#redis.wallSettle(admitted, pending, wall, due[i + 1] as string, hasHistory ? 1 : 0);
    }
  }
}
