import type { Config } from '../config.js';
import { MemoryStore } from './memory-store.js';
import type { MessageStore } from './store.js';

/** `WALLCAST_STORE` → the store it names (the value was validated in config.ts). */
export async function createStore(config: Config): Promise<MessageStore> {
  if (config.store === 'memory') return new MemoryStore(config.historySize);
  throw new Error(`store ${config.store} is not available in this build`);
}
