/**
 * The Redis store on a Redis Cluster of the suite's own (issue 19): three
 * masters and three replicas, started once for the file. The store
 * contract as on one Redis; the partitions spread over the masters; the
 * URLs that name the wrong kind of Redis refused at start with one line;
 * what a failure says (nothing stored, or maybe stored); a shutdown that
 * ends whatever the cluster does. The failovers under load are in
 * redis-cluster-failover.test.ts.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createMessage } from '../../src/posting.js';
import { PresenceTracker } from '../../src/presence/presence-tracker.js';
import { presenceKeyOf, RedisPresenceShare } from '../../src/presence/redis/redis-presence-share.js';
import { PostBudget } from '../../src/rate-limit.js';
import { connectRedis } from '../../src/store/redis/connect.js';
import { keySlot } from '../../src/store/redis/key-slot.js';
import { Partitions } from '../../src/store/redis/partitions.js';
import { RedisStreamStore } from '../../src/store/redis/redis-store.js';
import { surelyNotRun } from '../../src/store/redis/refusals.js';
import { StoreOpenError, StoreUnavailableError } from '../../src/store/store.js';
import { describeStoreContract } from '../store-contract.js';
import { until, within } from '../support/deadlines.js';
import { OwnCluster, withoutRedisServer } from '../support/own-cluster.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort } from '../support/ports.js';
import { client } from '../support/presence.js';
import { MAIN } from '../support/process.js';
import { redisTarget } from '../support/redis.js';

const log = createLogger(process.env.WALLCAST_LOG_LEVEL ?? 'silent');
const limits = { historySize: 20, historyBytes: 1 << 20, maxWalls: 1000 };

describe.skipIf(withoutRedisServer())('the Redis store on a cluster', () => {
  let cluster: OwnCluster;
  beforeAll(async () => {
    cluster = await OwnCluster.start();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  describeStoreContract('RedisStreamStore on a Redis Cluster', async (storeLimits) => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const store = await RedisStreamStore.open(redisTarget(cluster.url(`prefix=${prefix}`)), storeLimits, log);
    return {
      store,
      destroy: async () => {
        await store.close();
        await cluster.deletePrefix(prefix);
      },
    };
  });

  it('spreads the 16 partitions over the three masters, 5 or 6 each, in the slots the cluster computes', async () => {
    const partitions = new Partitions(16);
    const held = new Map<number, number>();
    for (const tag of partitions.tags) {
      const slot = Number(
        await cluster.command(cluster.ports[0] as number, 'CLUSTER', 'KEYSLOT', `wallcast:{${tag}}:feed`),
      );
      expect(slot).toBe(keySlot(`wallcast:{${tag}}:feed`));
      const master = await cluster.masterOf(slot);
      held.set(master.port, (held.get(master.port) ?? 0) + 1);
    }
    expect([...held.values()].sort()).toEqual([5, 5, 6]);
    for (const key of ['main', 'wallcast:epoch', `{${nanoid()}}:x`, nanoid(40)]) {
      expect(Number(await cluster.command(cluster.ports[0] as number, 'CLUSTER', 'KEYSLOT', key))).toBe(keySlot(key));
    }
  });

  it('refuses to start on a redis:// URL that reaches a cluster node, with one line that says what to use', async () => {
    const port = cluster.ports[0] as number;
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', WALLCAST_STORE: `redis://127.0.0.1:${port}/0` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await within('wallcast exits', 15_000, new Promise((resolve) => child.once('exit', resolve))).finally(
      () => child.kill('SIGKILL'),
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      `wallcast: WALLCAST_STORE=redis://127.0.0.1:${port}/0: this Redis is a node of a cluster: use redis+cluster://HOST:PORT,HOST:PORT/ (a cluster keeps walls in partitions over its masters)\n`,
    );
  });

  it('refuses a redis+cluster:// URL that reaches a single Redis', async () => {
    const single = new OwnRedis(await freePort());
    await single.start();
    try {
      await expect(
        RedisStreamStore.open(redisTarget(`redis+cluster://127.0.0.1:${single.port}/`), limits, log),
      ).rejects.toThrow(
        new StoreOpenError(
          `127.0.0.1:${single.port} is not a cluster node (cluster_enabled:0): use redis://HOST:PORT for a single Redis`,
        ),
      );
    } finally {
      await single.kill();
    }
  });

  it('tells a refusal (nothing done) from a failure that may have done it, by what the cluster answers', async () => {
    const [first, second] = await cluster.masters();
    const plain = new Redis(first?.port as number, '127.0.0.1', { maxRetriesPerRequest: 0 });
    try {
      // Keys of two slots; a key the other master serves.
      const crossSlot = await plain.mset('{a}x', '1', '{b}y', '2').catch((error: Error) => error);
      expect(String(crossSlot)).toMatch(/^ReplyError: CROSSSLOT/);
      expect(surelyNotRun(crossSlot)).toBe(true);
      let key = nanoid();
      while (!second?.slots.some(([low, high]) => keySlot(key) >= low && keySlot(key) <= high)) key = nanoid();
      const moved = await plain.set(key, '1').catch((error: Error) => error);
      expect(String(moved)).toMatch(/^ReplyError: MOVED/);
      expect(surelyNotRun(moved)).toBe(true);
    } finally {
      plain.disconnect();
    }
    // Through the store: a master that stops answering leaves a post it was sent uncertain.
    const store = await RedisStreamStore.open(redisTarget(cluster.url(`prefix=uncertain-${nanoid(6)}:`)), limits, log);
    const wall = 'stalled';
    const partition = new Partitions(16).tags[new Partitions(16).of(wall)] as string;
    const master = await cluster.masterOf(keySlot(`{${partition}}`));
    await store.append(createMessage(wall, '', 'first, admitted'));
    cluster.node(master.port).pause();
    try {
      const failed = await store.append(createMessage(wall, '', 'sent, never answered')).catch((error) => error);
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect(failed.uncertain).toBe(true);
    } finally {
      cluster.node(master.port).resume();
      await store.close();
    }
  });

  it('with ?wait=1, sends a post again where a failover moved its slot (ioredis does not, for a pipeline with WAIT)', async () => {
    const store = await RedisStreamStore.open(
      redisTarget(cluster.url(`prefix=moved-${nanoid(6)}:&wait=1`)),
      limits,
      log,
    );
    try {
      const wall = 'moving';
      const tag = new Partitions(16).tags[new Partitions(16).of(wall)] as string;
      await store.append(createMessage(wall, '', 'before'));
      await cluster.failover((await cluster.masterOf(keySlot(`{${tag}}`))).port);
      // The store's slot map still names the old master: the write is refused with MOVED, and sent again.
      const after = await store.append(createMessage(wall, '', 'after'));
      expect((await store.read(wall, { limit: 5 })).events.map((e) => e.cursor)).toContain(after.cursor);
    } finally {
      await store.close();
    }
  });

  it('shares presence over walls on every master: one pipeline per node each tick', async () => {
    const endpoint = redisTarget(cluster.url()).endpoint;
    const prefix = `presence-${nanoid(6)}:`;
    const open = () => {
      const redis = connectRedis(endpoint, { commandTimeoutMs: 2000 });
      const share = new RedisPresenceShare({ redis, keyOf: presenceKeyOf(prefix), instanceId: nanoid(), log });
      return { redis, tracker: new PresenceTracker({ share, graceMs: 200, emitWindowMs: 100, settleMs: 0, log }) };
    };
    const [a, b] = [open(), open()];
    try {
      const walls = Array.from({ length: 30 }, (_, i) => `presence-${i}`);
      const masters = new Set<number>();
      for (const wall of walls)
        masters.add((await cluster.masterOf(keySlot(presenceKeyOf(prefix)(wall, 'refs')))).port);
      expect(masters.size).toBe(3);
      for (const wall of walls) b.tracker.watch(wall, { members: false }, () => {});
      const handles = walls.map((wall, i) => a.tracker.join(wall, client(`browser-${String(i).padStart(4, '0')}`)));
      await until('b counts one on every wall', 5000, () =>
        walls.every((wall) => b.tracker.current(wall, { members: false })?.online === 1),
      );
      for (const handle of handles) handle.leave();
      await until('b counts nobody once the grace is over', 5000, () =>
        walls.every((wall) => b.tracker.current(wall, { members: false })?.online === 0),
      );
    } finally {
      await a.tracker.close();
      await b.tracker.close();
      a.redis.disconnect();
      b.redis.disconnect();
    }
  });

  it('keeps one post budget per client for every instance on the cluster', async () => {
    const redis = redisTarget(cluster.url(`prefix=budget-${nanoid(6)}:`));
    const limit = { posts: 2, perMs: 60_000 };
    const [a, b] = [PostBudget.onRedis(limit, redis), PostBudget.onRedis(limit, redis)];
    try {
      // Until its connection is ready each counts alone (its insurance): a probe client shows when both count in Redis.
      let probe = 0;
      await until('both budgets count in the cluster', 5000, async () => {
        const client = `probe-${probe++}`;
        await a.take(client);
        await a.take(client);
        return (await b.take(client)) > 0;
      });
      expect(await a.take('192.0.2.7')).toBe(0);
      expect(await b.take('192.0.2.7')).toBe(0);
      expect(await a.take('192.0.2.7')).toBeGreaterThan(0);
      expect(await b.take('192.0.2.7')).toBeGreaterThan(0);
      expect(await b.take('192.0.2.8')).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('closes within seconds while every node is stopped, and when the cluster never answered', async () => {
    const store = await RedisStreamStore.open(redisTarget(cluster.url(`prefix=closing-${nanoid(6)}:`)), limits, log);
    await store.append(createMessage('w', '', 'hello'));
    for (const port of cluster.ports) cluster.node(port).pause();
    try {
      const started = Date.now();
      expect(await store.isReady()).toBe(false);
      await within('close with every node stopped', 4000, store.close());
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      for (const port of cluster.ports) cluster.node(port).resume();
    }
    const nowhere = `redis+cluster://127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}/`;
    const lonely = await within('open with no node', 8000, RedisStreamStore.open(redisTarget(nowhere), limits, log));
    expect(await lonely.isReady()).toBe(false);
    await expect(lonely.append(createMessage('w', '', 'no cluster'))).rejects.toMatchObject({ uncertain: false });
    const started = Date.now();
    await within('close with no node ever', 3000, lonely.close());
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
