import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { createMessage } from '../src/posting.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStreamStore } from '../src/store/redis/redis-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { StoreLimits } from '../src/store/store.js';
import { describeStoreContract } from './store-contract.js';
import { deleteRedisPrefix, redisUrl } from './support/redis.js';
import { withoutRedis } from './support/services.js';

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
    const store = await RedisStreamStore.open(redisUrl(prefix), limits, createLogger('silent'));
    return {
      store,
      destroy: async () => {
        await store.close();
        await deleteRedisPrefix(prefix);
      },
    };
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
