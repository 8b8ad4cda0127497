/**
 * One number over every instance (issue 17, "Many instances"): servers on
 * one real Redis, each with its own share of the people. Two in this
 * process agree within 2 s of every change; one run as a process
 * (`node dist/main.js`: `npm run build` first) and SIGKILLed stops counting
 * within 15 s, the contract's default expiry (that test takes about 15 s).
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presenceKeyOf } from '../../src/presence/redis/redis-presence-share.js';
import type { RunningServer } from '../../src/server.js';
import { until, within } from '../support/deadlines.js';
import { newWall } from '../support/presence.js';
import { closeAll, counts, heard, onlineNow, openStream, untilHeard } from '../support/presence-streams.js';
import { MAIN, spawnWallcast, type WallcastProcess } from '../support/process.js';
import { deleteRedisPrefix, REDIS_URL, redisUrl } from '../support/redis.js';
import { startTestServer } from '../support/server.js';
import { withoutRedis } from '../support/services.js';
import type { RawSse } from '../support/sse-reader.js';

/** Issue 17: after a change, every instance reports the same count within this. */
const AGREE_MS = 2000;
/** Issue 17: a killed instance stops counting within this. */
const KILLED_GONE_MS = 15_000;

describe.skipIf(await withoutRedis())('presence over several instances on Redis', () => {
  const prefix = `wallcast-presence-e2e-${nanoid(8)}:`;
  let a: RunningServer;
  let b: RunningServer;
  let child: WallcastProcess | undefined;
  const opened: RawSse[] = [];

  async function stream(base: string, wall: string, query = ''): Promise<RawSse> {
    const sse = await openStream(base, `/api/walls/${wall}/events?backlog=0${query}`);
    opened.push(sse);
    return sse;
  }

  /** When `sse` first heard `online` for its wall after `fromAt` (Date.now()), or undefined. */
  function heardAt(sse: RawSse, online: number, fromAt: number): number | undefined {
    const i = sse.frames.findIndex(
      (frame, j) =>
        frame.event === 'presence' &&
        (sse.arrivals[j] as number) >= fromAt &&
        JSON.parse(frame.data as string).online === online,
    );
    return i === -1 ? undefined : sse.arrivals[i];
  }

  beforeAll(async () => {
    const env = { WALLCAST_STORE: redisUrl(prefix), WALLCAST_PRESENCE_GRACE_MS: '300' };
    [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
  });
  afterEach(() => {
    closeAll(opened.splice(0));
    child?.child.kill('SIGKILL');
    child = undefined;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteRedisPrefix(prefix);
  });

  it('reports every change on one instance identically on both within 2 s, a person on both counted once', async () => {
    const wall = newWall();
    const [watchA, watchB] = [
      await stream(a.url, wall, '&presence=count&client=watcher-a'),
      await stream(b.url, wall, '&presence=count&client=watcher-b'),
    ];
    // One browser whose tabs a load balancer sent to both instances.
    await stream(a.url, wall, '&client=browser-X');
    await stream(b.url, wall, '&client=browser-X');
    // A stream with neither client id nor token: out at once when it goes, no grace to wait.
    const passer = await stream(a.url, wall);
    await untilHeard(watchA, 'a hears both watchers, X and a passer', 4, AGREE_MS + 1000);
    await untilHeard(watchB, 'b hears both watchers, X and a passer', 4, AGREE_MS + 1000);

    const bothWithin = async (label: string, online: number, changedAt: number) => {
      await untilHeard(watchA, `a: ${label}`, online, AGREE_MS + 1000);
      await untilHeard(watchB, `b: ${label}`, online, AGREE_MS + 1000);
      const delays = [heardAt(watchA, online, changedAt), heardAt(watchB, online, changedAt)].map(
        (at) => (at as number) - changedAt,
      );
      expect(Math.max(...delays), `${label}: heard after ${delays.join(' and ')} ms`).toBeLessThanOrEqual(AGREE_MS);
      expect([await onlineNow(a.url, wall), await onlineNow(b.url, wall)]).toEqual([online, online]);
    };
    let changedAt = Date.now();
    await stream(b.url, wall);
    await bothWithin('a stream arrives on b', 5, changedAt);
    changedAt = Date.now();
    passer.close();
    await bothWithin('the passer leaves a', 4, changedAt);
    expect(counts(watchA).slice(-3)).toEqual([4, 5, 4]);
    expect(counts(watchB).slice(-3)).toEqual([4, 5, 4]);
  });

  it('stops counting a SIGKILLed instance within 15 s, killed just after it renewed its share', async () => {
    expect(existsSync(MAIN), 'dist/ is built (npm run build)').toBe(true);
    const wall = newWall();
    child = await spawnWallcast({ WALLCAST_STORE: redisUrl(prefix), WALLCAST_PRESENCE_GRACE_MS: '300' });
    // The child's people: a browser only there, one also on a, and a stream that watches (its share renews each poll).
    await stream(child.url, wall, '&client=browser-K');
    await stream(child.url, wall, '&client=browser-X');
    const childWatching = await stream(child.url, wall, '&presence=count');
    const redis = new Redis(REDIS_URL);
    try {
      const instances = presenceKeyOf(prefix)(wall, 'instances');
      await until('the child has a lease on the wall', 3000, async () => (await redis.zcard(instances)) === 1);
      const [childId] = await redis.zrange(instances, 0, 0);
      const watcher = await stream(a.url, wall, '&presence=count&client=watcher-a');
      await stream(a.url, wall, '&client=browser-X');
      await untilHeard(watcher, 'a hears the watcher, K, X and the child’s watching stream', 4, AGREE_MS + 1000);
      await untilHeard(childWatching, 'so does the child', 4, AGREE_MS + 1000);

      // The worst moment to die: just after renewing, so its lease runs longest.
      const leaseEnd = await redis.zscore(instances, childId as string);
      await until(
        'the child renews its lease',
        3000,
        async () => (await redis.zscore(instances, childId as string)) !== leaseEnd,
      );
      const exited = child.exited;
      child.child.kill('SIGKILL');
      const killedAt = Date.now();
      await within('the child is dead', 2000, exited);
      child = undefined;

      await untilHeard(watcher, 'a hears the child’s people gone', 2, KILLED_GONE_MS + 2000);
      const goneMs = (heardAt(watcher, 2, killedAt) as number) - killedAt;
      expect(goneMs, `heard after ${goneMs} ms`).toBeLessThanOrEqual(KILLED_GONE_MS);
      expect(await onlineNow(a.url, wall)).toBe(2);
      expect(heard(watcher).at(-1)).toEqual({ wall, online: 2 });
      expect(await redis.zcard(instances)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
