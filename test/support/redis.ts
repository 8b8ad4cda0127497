/** The real Redis of the machine, shared by the runs: one key prefix per run, deleted afterwards. */
import net from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import type { RedisTarget } from '../../src/config-store.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** A unique Redis key prefix for one test run, so runs never collide. */
export function redisUrl(prefix: string): string {
  return `${REDIS_URL}${REDIS_URL.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`;
}

/** A Redis store URL as config.ts parses it from WALLCAST_STORE (a single Redis, a cluster or Sentinels). */
export function redisTarget(url: string): RedisTarget {
  const store = loadConfig({ WALLCAST_STORE: url }).store;
  if (store.kind !== 'redis') throw new Error(`${url} is not a Redis store`);
  return store;
}

/** Deletes every key of a test run's prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

/** Whether a Redis answers PING at REDIS_URL within a second (a plain socket: no client retries, no noise). */
export function redisAnswers(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname);
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}
