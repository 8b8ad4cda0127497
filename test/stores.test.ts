import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { loadConfig, type RedisTarget } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createMessage } from '../src/posting.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStreamStore } from '../src/store/redis/redis-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { type StoreLimits, StoreOpenError, WallLimitError } from '../src/store/store.js';
import { describeStoreContract } from './store-contract.js';
import { deleteRedisPrefix, REDIS_URL, redisUrl } from './support/redis.js';
import { withoutRedis } from './support/services.js';

/** The Redis of the tests under a key prefix of their own, as config.ts parses it from WALLCAST_STORE. */
function redisTarget(prefix: string): RedisTarget {
  const store = loadConfig({ WALLCAST_STORE: redisUrl(prefix) }).store;
  if (store.kind !== 'redis') throw new Error(`${redisUrl(prefix)} is not a Redis store`);
  return store;
}

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
    const store = await RedisStreamStore.open(redisTarget(prefix), limits, createLogger('silent'));
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
  it('adopts the wall set of wallcast 0.2: its walls with events listed by their newest, counted against maxWalls', async () => {
    const prefix = `wallcast-test-${nanoid(8)}:`;
    const redis = new Redis(REDIS_URL);
    const log = createLogger('silent');
    try {
      const first = await RedisStreamStore.open(redisTarget(prefix), { ...limits(10), maxWalls: 2 }, log);
      const kept = await first.append(createMessage('kept', '', 'from before'));
      await first.close();
      // As 0.2 left it: a set of walls, one of them with no events left, and no active set.
      await redis.del(`${prefix}active`);
      await redis.sadd(`${prefix}walls`, 'kept', 'expired');
      const second = await RedisStreamStore.open(redisTarget(prefix), { ...limits(10), maxWalls: 2 }, log);
      try {
        const list = await second.listWalls({ limit: 10 });
        expect(list.walls).toEqual([
          {
            wall: 'kept',
            lastActivityAt: new Date(Number(kept.cursor.split('-')[1])).toISOString(),
            head: kept.cursor,
          },
        ]);
        expect(await redis.exists(`${prefix}walls`)).toBe(0);
        await second.append(createMessage('second', '', 'room for one more'));
        await expect(second.append(createMessage('third', '', 'no room'))).rejects.toBeInstanceOf(WallLimitError);
      } finally {
        await second.close();
      }
    } finally {
      redis.disconnect();
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
