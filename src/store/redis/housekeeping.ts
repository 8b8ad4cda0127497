import type { Logger } from 'pino';
import { retentionSweepMs } from '../store.js';
import { isCluster } from './connect.js';
import type { RedisKeys } from './keys.js';
import type { WallAdmission } from './wall-admission.js';
import type { ScriptedClient } from './wall-commands.js';

/** How often, without a retention, the admissions are settled (wall-admission.ts). */
const HOUSEKEEPING_MS = 60_000;

/**
 * What each instance sweeps now and then, once the layout is ready: the
 * retention (`WALLCAST_RETENTION`), the admissions to settle, and, on a
 * single Redis, an older wallcast still posting to it (adopt-legacy-layout.ts).
 */
export class Housekeeping {
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #olderWallcastSeen = false;

  constructor(
    private readonly redis: ScriptedClient,
    private readonly keys: RedisKeys,
    private readonly admission: WallAdmission,
    private readonly retentionMs: number | undefined,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.#timer !== undefined) return;
    const sweepMs = this.retentionMs === undefined ? HOUSEKEEPING_MS : retentionSweepMs(this.retentionMs);
    this.#timer = setInterval(() => void this.#sweep(), sweepMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      if (this.retentionMs !== undefined) await this.#expire(Date.now() - this.retentionMs);
      await this.admission.settle();
      if (!isCluster(this.redis) && !this.#olderWallcastSeen && (await this.redis.exists(this.keys.legacy.feed))) {
        this.#olderWallcastSeen = true;
        this.log.error(
          { key: this.keys.legacy.feed },
          'redis: an older wallcast is posting to this Redis under the same prefix; its posts are not seen here: stop it',
        );
      }
    } catch (error) {
      this.log.warn({ err: error }, 'redis: the housekeeping sweep failed; it runs again soon');
    } finally {
      this.#sweeping = false;
    }
  }

  /** Retention: each wall with history loses its events older than `minMs`; a wall left empty stops counting. */
  async #expire(minMs: number): Promise<void> {
    for (const index of this.keys.partitions.all()) {
      const { active } = this.keys.partition(index);
      let cursor = '0';
      do {
        const [next, membersAndScores] = await this.redis.zscan(active, cursor, 'COUNT', 100);
        for (const wall of membersAndScores.filter((_, i) => i % 2 === 0)) {
          const { events, meta, ids, keys } = this.keys.wall(wall);
          const left = await this.redis.wallExpire(events, meta, ids, active, keys, wall, minMs);
          if (left === 0) await this.admission.release(wall);
        }
        cursor = next;
      } while (cursor !== '0');
    }
  }
}
