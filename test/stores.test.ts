import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import type { RedisTarget } from '../src/config-store.js';
import { createLogger } from '../src/logger.js';
import { type Message, withCursor } from '../src/message.js';
import { createMessage } from '../src/posting.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStreamStore } from '../src/store/redis/redis-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { type StoreLimits, StoreOpenError, StoreUnavailableError, WallLimitError } from '../src/store/store.js';
import { describeStoreContract } from './store-contract.js';
import { deleteRedisPrefix, REDIS_URL, redisTarget, redisUrl } from './support/redis.js';
import { withoutRedis } from './support/services.js';

/** The Redis of the tests under a key prefix of their own. */
const redisOf = (prefix: string): RedisTarget => redisTarget(redisUrl(prefix));

/** A store's limits for tests that only care about the history size. */
const limits = (historySize: number): StoreLimits => ({ historySize, historyBytes: 1 << 20, maxWalls: 1000 });

describeStoreContract('MemoryStore', async (limits) => {
  const store = new MemoryStore(limits);
  return { store, destroy: () => store.close() };
});

describeStoreContract('SqliteStore', async (limits) => {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-sqlite-'));
  const store = new SqliteStore(join(dir, 'nested', 'wall.db'), limits);
  return {
    store,
    destroy: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe.skipIf(await withoutRedis())('on a real Redis', () => {
  describeStoreContract('RedisStreamStore', async (limits) => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const store = await RedisStreamStore.open(redisOf(prefix), limits, createLogger('silent'));
    return {
      store,
      destroy: async () => {
        await store.close();
        await deleteRedisPrefix(prefix);
      },
    };
  });
});

describe.skipIf(await withoutRedis())('RedisStreamStore across versions', () => {
  const log = createLogger('silent');

  /**
   * A wall as wallcast 0.3 (and 0.2) wrote it: its keys under `{wall}`, in
   * the deployment's one epoch; the posts as its append script stored them.
   */
  async function writeOldWall(redis: Redis, prefix: string, wall: string, bodies: string[], key?: string) {
    const posted: Message[] = [];
    let bytes = 0;
    for (const [i, body] of bodies.entries()) {
      const draft = createMessage(wall, '', body);
      const json = JSON.stringify(draft);
      const fields = ['t', 'message', 'id', draft.id, 'j', json, ...(i === 0 && key ? ['k', key] : [])];
      const entry = (await redis.xadd(`${prefix}{${wall}}:events`, '*', ...fields)) as string;
      await redis.hset(`${prefix}{${wall}}:ids`, draft.id, entry);
      if (i === 0 && key) await redis.hset(`${prefix}{${wall}}:keys`, key, entry);
      await redis.hset(`${prefix}{${wall}}:meta`, 'head', entry);
      await redis.xadd(
        `${prefix}feed`,
        '*',
        'w',
        wall,
        'e',
        '0a0b0c0d',
        'c',
        entry,
        't',
        'message',
        'id',
        draft.id,
        'j',
        json,
      );
      bytes += json.length;
      posted.push(withCursor(draft, `0a0b0c0d-${entry}`));
    }
    await redis.hset(`${prefix}{${wall}}:meta`, 'bytes', bytes);
    return posted;
  }

  it('moves the keys of wallcast 0.3 and 0.2 into partitions: cursors, keys and ids still work, walls still count', async () => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const redis = new Redis(REDIS_URL);
    try {
      await redis.set(`${prefix}epoch`, '0a0b0c0d');
      const kept = await writeOldWall(redis, prefix, 'kept', ['one', 'two', 'three'], 'key-1');
      await redis.zadd(`${prefix}active`, Number(kept[2]?.cursor.split('-')[1]), 'kept');
      // 0.2 knew its walls by a set, without times; one of them has no events left.
      const older = await writeOldWall(redis, prefix, 'older', ['from 0.2']);
      await redis.sadd(`${prefix}walls`, 'older', 'expired');

      const store = await RedisStreamStore.open(redisOf(prefix), { ...limits(10), maxWalls: 3 }, log);
      try {
        // A client that saw "one" resumes exactly, in the same epoch.
        const resumed = await store.read('kept', { after: kept[0]?.cursor, limit: 10 });
        expect(resumed.reset).toBeUndefined();
        expect(resumed.events.map((e) => e.cursor)).toEqual([kept[1]?.cursor, kept[2]?.cursor]);
        expect(await store.get('kept', kept[1]?.id as string)).toEqual(kept[1]);
        expect(await store.findPost('kept', 'key-1')).toEqual(kept[0]);
        expect((await store.listWalls({ limit: 10 })).walls.map((w) => [w.wall, w.head])).toEqual([
          ['older', older[0]?.cursor],
          ['kept', kept[2]?.cursor],
        ]);
        const later = await store.append(createMessage('kept', '', 'four'));
        expect(later.cursor.startsWith('0a0b0c0d-')).toBe(true);
        expect(store.compareCursors(later.cursor, kept[2]?.cursor as string)).toBeGreaterThan(0);
        // Two walls moved in count against maxWalls (3): room for one more.
        await store.append(createMessage('third', '', 'room for one more'));
        await expect(store.append(createMessage('fourth', '', 'no room'))).rejects.toBeInstanceOf(WallLimitError);
        const left = await redis.keys(`${prefix}*`);
        expect(left.filter((k) => /^[^{]*:(epoch|active|walls|feed)$|:\{(kept|older)\}:/.test(k))).toEqual([]);
      } finally {
        await store.close();
      }
      // Opened again, nothing is moved twice.
      const again = await RedisStreamStore.open(redisOf(prefix), { ...limits(10), maxWalls: 3 }, log);
      expect((await again.read('kept', { limit: 10 })).events).toHaveLength(4);
      await again.close();
    } finally {
      redis.disconnect();
      await deleteRedisPrefix(prefix);
    }
  });

  it('refuses to open data written with another number of partitions, saying both', async () => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    try {
      const first = await RedisStreamStore.open(redisOf(prefix), limits(10), log);
      await first.append(createMessage('w', '', 'in 16 partitions'));
      await first.close();
      const other = { ...redisOf(prefix), partitions: 8 };
      await expect(RedisStreamStore.open(other, limits(10), log)).rejects.toThrow(
        new StoreOpenError(
          'its data is in 16 partitions, not 8: set ?partitions=16 (the number is fixed for the life of the data)',
        ),
      );
    } finally {
      await deleteRedisPrefix(prefix);
    }
  });

  it('with ?wait=1 and no replica, answers a post as not confirmed (it may be stored), and is not ready', async () => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const store = await RedisStreamStore.open({ ...redisOf(prefix), wait: 1 }, limits(10), log);
    try {
      const draft = createMessage('w', '', 'stored, not replicated');
      const refused = await store.append(draft, { idempotencyKey: 'k' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StoreUnavailableError);
      expect(refused).toMatchObject({ uncertain: true, message: expect.stringMatching(/0 of 1 replicas/) });
      // The primary has it: a retry with its key finds it, and is not confirmed either.
      expect((await store.read('w', { limit: 5 })).events.map((e) => e.cursor)).toHaveLength(1);
      await expect(store.append(draft, { idempotencyKey: 'k' })).rejects.toMatchObject({ uncertain: true });
      expect(await store.isReady()).toBe(false);
    } finally {
      await store.close();
      await deleteRedisPrefix(prefix);
    }
  });
});

describe('SqliteStore across restarts', () => {
  it('resumes a cursor from before the restart exactly, and never reuses a cursor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-sqlite-'));
    const path = join(dir, 'wall.db');
    try {
      const first = new SqliteStore(path, limits(50));
      const before = await first.append(createMessage('w', '', 'before'));
      await first.close();
      const second = new SqliteStore(path, limits(50));
      const after = await second.append(createMessage('w', '', 'after'));
      expect(second.compareCursors(after.cursor, before.cursor)).toBeGreaterThan(0);
      const resumed = await second.read('w', { after: before.cursor, limit: 10 });
      expect(resumed.reset).toBeUndefined();
      expect(resumed.events.map((e) => e.cursor)).toEqual([after.cursor]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MemoryStore across restarts', () => {
  it('answers a cursor of an earlier process with an epoch reset', async () => {
    const first = new MemoryStore(limits(10));
    const old = await first.append(createMessage('w', '', 'gone'));
    const second = new MemoryStore(limits(10));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const page = await second.read('w', { after: old.cursor, limit: 10 });
    expect(page.reset).toBe('epoch');
  });
});

describe('SqliteStore across versions', () => {
  /** A database as wallcast 0.2 left it: no schema version, no wall activity columns. */
  function writeUnversionedFile(path: string): void {
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE events (seq INTEGER PRIMARY KEY, wall TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
        json TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0, at_ms INTEGER NOT NULL DEFAULT 0, post_key TEXT);
      CREATE INDEX events_by_wall ON events (wall, seq);
      CREATE INDEX messages_by_id ON events (wall, id) WHERE type = 'message';
      CREATE INDEX messages_by_post_key ON events (wall, post_key) WHERE post_key IS NOT NULL;
      CREATE TABLE walls (wall TEXT PRIMARY KEY, rows INTEGER NOT NULL, trimmed_upto INTEGER NOT NULL,
        bytes INTEGER NOT NULL DEFAULT 0);
      INSERT INTO meta VALUES ('epoch', '0a0b0c0d'), ('last_seq', '3');
    `);
    const insert = db.prepare(
      'INSERT INTO events (seq, wall, type, id, json, bytes, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const message = (seq: number, wall: string, atMs: number) => {
      const json = JSON.stringify({ ...createMessage(wall, '', `old ${seq}`), cursor: `0a0b0c0d-${seq}` });
      insert.run(seq, wall, 'message', `id${seq}`, json, json.length, atMs);
    };
    message(1, 'older', 1_000);
    message(2, 'newer', 2_000);
    message(3, 'older', 3_000);
    db.exec(`INSERT INTO walls VALUES ('older', 2, 0, 100), ('newer', 1, 0, 50), ('emptied', 0, 7, 0)`);
    db.close();
  }

  it('opens a file of wallcast 0.2: its walls listed by their newest event, its cursors still resuming', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-sqlite-'));
    const path = join(dir, 'wall.db');
    try {
      writeUnversionedFile(path);
      const store = new SqliteStore(path, limits(50));
      expect(await store.listWalls({ limit: 10 })).toEqual({
        walls: [
          { wall: 'older', lastActivityAt: new Date(3_000).toISOString(), head: '0a0b0c0d-3' },
          { wall: 'newer', lastActivityAt: new Date(2_000).toISOString(), head: '0a0b0c0d-2' },
        ],
      });
      const resumed = await store.read('older', { after: '0a0b0c0d-1', limit: 10 });
      expect(resumed.events.map((e) => e.cursor)).toEqual(['0a0b0c0d-3']);
      const later = await store.append(createMessage('newer', '', 'new'));
      expect(later.cursor).toBe('0a0b0c0d-4');
      expect((await store.listWalls({ limit: 1 })).walls).toEqual([
        { wall: 'newer', lastActivityAt: expect.any(String), head: later.cursor },
      ]);
      await store.close();
      // Opened again, the file is not migrated twice.
      const again = new SqliteStore(path, limits(50));
      expect((await again.listWalls({ limit: 10 })).walls.map((w) => w.wall)).toEqual(['newer', 'older']);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file of a newer wallcast, saying so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-sqlite-'));
    const path = join(dir, 'wall.db');
    try {
      const db = new Database(path);
      db.pragma('user_version = 99');
      db.close();
      expect(() => new SqliteStore(path, limits(50))).toThrow(StoreOpenError);
      expect(() => new SqliteStore(path, limits(50))).toThrow(/newer wallcast/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
