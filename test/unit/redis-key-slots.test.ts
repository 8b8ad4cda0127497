/**
 * Issue 19: every key a script touches is in one hash slot, so that each
 * runs on one node of a Redis Cluster; and the partitions spread evenly
 * over a cluster's masters. The slots are Redis Cluster's own (checked
 * against known values here, against `CLUSTER KEYSLOT` in
 * test/e2e/redis-cluster.test.ts); the scripts' keys are what the store
 * really sends, watched with MONITOR on a Redis of the test's own while
 * the store, the presence share and the post budget do everything they do.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMessage } from '../../src/posting.js';
import { PresenceTracker } from '../../src/presence/presence-tracker.js';
import { PRESENCE_SCRIPT } from '../../src/presence/redis/presence-script.js';
import { presenceKeyOf, RedisPresenceShare } from '../../src/presence/redis/redis-presence-share.js';
import { crc16, HASH_SLOTS, keySlot } from '../../src/store/redis/key-slot.js';
import { Partitions } from '../../src/store/redis/partitions.js';
import { RedisStreamStore } from '../../src/store/redis/redis-store.js';
import { APPEND, DELETE, EXPIRE, FIND, LIST_WALLS, READ } from '../../src/store/redis/scripts.js';
import { ADMISSION_SCRIPTS } from '../../src/store/redis/wall-admission.js';
import { until } from '../support/deadlines.js';
import { withoutRedisServer } from '../support/own-cluster.js';
import { OwnRedis } from '../support/own-redis.js';
import { freePort } from '../support/ports.js';
import { client } from '../support/presence.js';

describe('hash slots', () => {
  it("computes Redis Cluster's slots, hash tags included", () => {
    // The specification's own examples.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') % HASH_SLOTS);
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    // Values CLUSTER KEYSLOT gave on Redis 7.0.15.
    expect(keySlot('wallcast:{p0}:feed')).toBe(keySlot('p0'));
    expect(keySlot('main')).toBe(12501);
    expect(keySlot('wallcast:epoch')).toBe(2909);
  });

  it('puts partition i in the i-th of P equal slot ranges, so even masters hold at most ⌈P/masters⌉ + 1', () => {
    for (const count of [1, 3, 16, 64, 256]) {
      const partitions = new Partitions(count);
      expect(new Set(partitions.tags).size).toBe(count);
      for (const [i, tag] of partitions.tags.entries()) {
        const slot = keySlot(`{${tag}}`);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((i * HASH_SLOTS) / count));
        expect(slot).toBeLessThan(Math.floor(((i + 1) * HASH_SLOTS) / count));
      }
      for (let masters = 1; masters <= 10; masters++) {
        // Even ranges, as redis-cli --cluster create gives them.
        const held = Array.from({ length: masters }, () => 0);
        for (const tag of partitions.tags) {
          const master = Math.floor((keySlot(`{${tag}}`) * masters) / HASH_SLOTS);
          held[master] = (held[master] ?? 0) + 1;
        }
        expect(Math.max(...held)).toBeLessThanOrEqual(Math.ceil(count / masters) + 1);
      }
    }
    // Walls spread over the partitions.
    const partitions = new Partitions(16);
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitions.of(`wall-${i}`)));
    expect(used.size).toBe(16);
  });
});

describe.skipIf(withoutRedisServer())('the keys each script is given', () => {
  let redis: OwnRedis;
  let monitor: Redis;
  const seen: string[][] = [];

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    monitor = await new Redis(redis.port, '127.0.0.1').monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval(sha)?$/i.test(args[0] ?? '')) seen.push(args);
    });
  });
  afterAll(async () => {
    monitor?.disconnect();
    await redis?.kill();
  });

  it('keeps every script of the store, the admission and presence in one slot, whatever it is asked', async () => {
    const prefix = `slots-${nanoid(6)}:`;
    const log = createLogger(process.env.LOG ?? 'silent');
    const target = loadConfig({ WALLCAST_STORE: `redis://127.0.0.1:${redis.port}/0?prefix=${prefix}` }).store;
    if (target.kind !== 'redis') throw new Error('not a Redis store');
    const limits = { historySize: 3, historyBytes: 1 << 20, maxWalls: 5, retentionMs: 1000 };
    const store = await RedisStreamStore.open(target, limits, log);
    const share = new RedisPresenceShare({
      redis: new Redis(redis.port, '127.0.0.1'),
      keyOf: presenceKeyOf(prefix),
      instanceId: nanoid(),
      log,
    });
    const tracker = new PresenceTracker({ share, graceMs: 0, log });
    try {
      const walls = Array.from({ length: 6 }, (_, i) => `w${i}`);
      for (const wall of walls.slice(0, 5)) {
        const first = await store.append(createMessage(wall, '', 'one'), { idempotencyKey: `k-${wall}` });
        await store.append(createMessage(wall, '', 'one'), { idempotencyKey: `k-${wall}` });
        // Past historySize: the append trims.
        for (let i = 0; i < 5; i++) await store.append(createMessage(wall, '', `more ${i}`));
        await store.read(wall, { limit: 2 });
        await store.read(wall, { after: first.cursor, limit: 2 });
        await store.readBefore(wall, { before: first.cursor, limit: 2 });
        await store.get(wall, first.id);
        await store.findPost(wall, `k-${wall}`);
        await store.delete(wall, first.id);
      }
      // Past maxWalls: admitted or not, its keys are in one slot too.
      await expect(store.append(createMessage('w5', '', 'no room'))).rejects.toThrow();
      await store.listWalls({ limit: 3 });
      // An admission old enough to settle, for the sweep.
      const admin = new Redis(redis.port, '127.0.0.1');
      await admin.zadd(`${prefix}{walls}:pending`, 1, 'w0');
      admin.disconnect();
      tracker.join('w0', client('browser-x'));
      // The retention sweep (every 100 ms) expires every wall, releases it, and settles the old admission.
      await until(
        'the retention emptied the walls',
        10_000,
        async () => (await store.listWalls({ limit: 5 })).walls.length === 0,
      );
    } finally {
      await tracker.close();
      await store.close();
    }
    const scripts = new Map(
      Object.entries({ APPEND, READ, DELETE, EXPIRE, LIST_WALLS, FIND, PRESENCE_SCRIPT, ...ADMISSION_SCRIPTS }).map(
        ([name, lua]) => [sha1(lua), name],
      ),
    );
    const ran = new Set<string>();
    for (const args of seen) {
      const sha = /^evalsha$/i.test(args[0] as string) ? (args[1] as string) : sha1(monitorBytes(args[1] as string));
      const name = scripts.get(sha);
      // The post budget's script (rate-limiter-flexible's) is not run here; any other is one of ours.
      expect(name, `a script of ours: ${(args[1] as string).slice(0, 80)}`).toBeDefined();
      if (name === undefined) continue;
      ran.add(name);
      const keys = args.slice(3, 3 + Number(args[2]));
      expect(keys.length, `${name} takes keys`).toBeGreaterThan(0);
      expect(new Set(keys.map(keySlot)).size, `${name}'s keys ${keys.join(' ')}`).toBe(1);
    }
    expect([...ran].sort()).toEqual([...scripts.values()].sort());
  });
});

function sha1(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * MONITOR shows arguments escaped as Redis's `sdscatrepr` writes them (each
 * byte of a non-ASCII character as `\xHH`): the script's bytes back.
 */
function monitorBytes(shown: string): Buffer {
  const named: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };
  const bytes = shown.replace(/\\(x[0-9a-f]{2}|[nrtab"\\])/g, (_, code: string) =>
    code.startsWith('x') ? String.fromCharCode(Number.parseInt(code.slice(1), 16)) : (named[code] as string),
  );
  return Buffer.from(bytes, 'latin1');
}
