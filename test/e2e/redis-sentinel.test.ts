/**
 * The Redis store on a Sentinel-managed primary of the suite's own (issue
 * 19): a primary, two replicas and three Sentinels, started once for the
 * file. The store contract through the Sentinels with `?wait=1`; then the
 * primary killed under steady posts to two instances: they follow the new
 * primary, nothing acknowledged is lost, each retry stores once, and no
 * stream shows what the failover lost. And a shutdown that ends whatever
 * the Sentinels do.
 */
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Message } from '../../src/message.js';
import { createMessage } from '../../src/posting.js';
import type { RunningServer } from '../../src/server.js';
import { RedisStreamStore } from '../../src/store/redis/redis-store.js';
import { describeStoreContract } from '../store-contract.js';
import { until, within } from '../support/deadlines.js';
import { getJson, postJson } from '../support/http.js';
import { withoutRedisServer } from '../support/own-cluster.js';
import { OwnSentinels } from '../support/own-sentinels.js';
import { freePort } from '../support/ports.js';
import { redisTarget } from '../support/redis.js';
import { startTestServer } from '../support/server.js';
import { RawSse } from '../support/sse-reader.js';

const log = createLogger(process.env.WALLCAST_LOG_LEVEL ?? 'silent');
const limits = { historySize: 20, historyBytes: 1 << 20, maxWalls: 1000 };

describe.skipIf(withoutRedisServer())('the Redis store through Sentinel', () => {
  let sentinels: OwnSentinels;
  beforeAll(async () => {
    sentinels = await OwnSentinels.start();
  });
  afterAll(async () => {
    await sentinels?.stop();
  });

  describeStoreContract('RedisStreamStore through Sentinel, ?wait=1', async (storeLimits) => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const store = await RedisStreamStore.open(redisTarget(sentinels.url(`prefix=${prefix}&wait=1`)), storeLimits, log);
    return { store, destroy: () => store.close() };
  });

  it('follows the new primary when the old one is killed, losing nothing acknowledged with ?wait=1', async () => {
    const env = { WALLCAST_STORE: sentinels.url('prefix=killed:&wait=1'), WALLCAST_HEARTBEAT_MS: '1000' };
    const servers: RunningServer[] = [await startTestServer(env), await startTestServer(env)];
    const walls = ['s1', 's2', 's3', 's4'];
    try {
      const streams = servers.map((s) => new RawSse(`${s.url}/api/events?walls=${walls.join(',')}&backlog=0`));
      for (const stream of streams) await stream.waitFor('open', (s) => s.frames.length >= 2);
      const posted: { key: string; statuses: number[]; message?: Message }[] = [];
      let stopped = false;
      const posting = Promise.all(
        servers.map(async (server, i) => {
          for (let n = 0; !stopped; n++) {
            const post = { key: `p${i}-${n}`, statuses: [] as number[], message: undefined as Message | undefined };
            posted.push(post);
            const wall = walls[n % walls.length] as string;
            const deadline = Date.now() + 30_000;
            while (post.message === undefined && Date.now() < deadline) {
              const answer = await postJson(
                server.url,
                `/api/walls/${wall}/messages`,
                { body: post.key },
                {
                  'Idempotency-Key': post.key,
                },
              );
              post.statuses.push(answer.status);
              if (answer.status === 201) post.message = answer.json;
              else await new Promise((resolve) => setTimeout(resolve, 200));
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      const readiness: number[] = [];
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const old = await sentinels.primaryPort();
        await sentinels.server(old).kill();
        await until('the instances are not ready', 5000, async () => {
          const statuses = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/readyz`)).status));
          return statuses.every((status) => status === 503);
        });
        await until('the Sentinels named another primary, with a replica', 20_000, () => sentinels.healthy(1));
        for (const server of servers) {
          await until('ready on the new primary', 10_000, async () => {
            const { status } = await fetch(`${server.url}/readyz`);
            readiness.push(status);
            return status === 200;
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        stopped = true;
        await within('the posters stopped', 40_000, posting);
      }
      expect(posted.every((post) => post.message !== undefined)).toBe(true);
      expect(posted.some((post) => post.statuses.includes(503))).toBe(true);
      expect(posted.flatMap((post) => post.statuses).filter((status) => status !== 201 && status !== 503)).toEqual([]);
      for (const wall of walls) {
        const history = (
          (await getJson(servers[0]?.url as string, `/api/walls/${wall}/messages?limit=1000`)).json
            .messages as Message[]
        ).map((m) => m.id);
        const mine = posted.filter((post) => post.message?.wall === wall).map((post) => post.message?.id);
        expect(new Set(history)).toEqual(new Set(mine));
        expect(history).toHaveLength(mine.length);
        for (const stream of streams) {
          await stream.waitFor(
            `the stream has ${wall}'s posts`,
            (s) => s.messages<Message>().filter((m) => m.wall === wall).length >= history.length,
            10_000,
          );
          expect(
            stream
              .messages<Message>()
              .filter((m) => m.wall === wall)
              .map((m) => m.id),
          ).toEqual(history);
        }
      }
      for (const stream of streams) stream.close();
    } finally {
      for (const server of servers) await server.close();
    }
  }, 90_000);

  it('closes within seconds when the Sentinels never answered, and while the primary is stopped', async () => {
    const nowhere = `redis+sentinel://127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}/wallcast`;
    const lonely = await within(
      'open with no Sentinel',
      8000,
      RedisStreamStore.open(redisTarget(nowhere), limits, log),
    );
    expect(await lonely.isReady()).toBe(false);
    await expect(lonely.append(createMessage('w', '', 'nobody there'))).rejects.toMatchObject({ uncertain: false });
    let started = Date.now();
    await within('close with no Sentinel ever', 3000, lonely.close());
    expect(Date.now() - started).toBeLessThan(3000);

    const store = await RedisStreamStore.open(redisTarget(sentinels.url(`prefix=closing-${nanoid(6)}:`)), limits, log);
    await store.append(createMessage('w', '', 'hello'));
    const primary = sentinels.server(await sentinels.primaryPort());
    primary.pause();
    try {
      started = Date.now();
      await within('close with the primary stopped', 4000, store.close());
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      primary.resume();
    }
  });
});
