import type { Logger } from 'pino';
import type { Config, StoreConfig } from '../config.js';
import { compareEpochCursors } from './epoch-cursor.js';
import { MemoryStore } from './memory-store.js';
import { compareCursors as compareRedisCursors } from './redis/redis-cursor.js';
import { RedisStreamStore } from './redis/redis-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { type MessageStore, type StoreLimits, StoreOpenError } from './store.js';

/**
 * `WALLCAST_STORE` → the store it names (config.ts parsed it). A store that
 * cannot be opened is a StoreOpenError naming the variable, for main.ts to
 * print as its one line.
 */
export async function createStore(config: Config, log: Logger): Promise<MessageStore> {
  const limits: StoreLimits = {
    historySize: config.historySize,
    historyBytes: config.historyBytes,
    maxWalls: config.maxWalls,
    retentionMs: config.retentionMs,
  };
  const { store } = config;
  try {
    switch (store.kind) {
      case 'memory':
        return new MemoryStore(limits);
      case 'sqlite':
        return new SqliteStore(store.path, limits);
      case 'redis':
        return await RedisStreamStore.open(store, limits, log.child({ store: 'redis' }));
    }
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    throw new StoreOpenError(`WALLCAST_STORE=${store.label}: ${error.message}`, { cause: error });
  }
}

/**
 * The cursor order of the store `WALLCAST_STORE` names, without opening it:
 * a cluster worker compares the cursors its primary's store issued.
 */
export function cursorOrder(store: StoreConfig): (a: string, b: string) => number {
  return store.kind === 'redis' ? compareRedisCursors : compareEpochCursors;
}
