import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { MemoryStore } from './memory-store.js';
import { RedisStreamStore } from './redis/redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { MessageStore } from './store.js';

/** `WALLCAST_STORE` → the store it names (the value was validated in config.ts). */
export async function createStore(config: Config, log: Logger): Promise<MessageStore> {
  const { store, historySize } = config;
  if (store === 'memory') return new MemoryStore(historySize);
  if (store.startsWith('sqlite:')) return new SqliteStore(store.slice('sqlite:'.length), historySize);
  return RedisStreamStore.open(store, historySize, log.child({ store: 'redis' }));
}
