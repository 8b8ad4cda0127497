/**
 * Whether the Redis store can serve now (`/readyz`). A PING is not enough:
 * any cluster node answers one while another master is gone, and a
 * demoted primary answers one too (issue 19). So:
 *
 * - One Redis, or the primary Sentinels name: it answers, is a primary
 *   (a replica would refuse every post), and with `?wait=N` has at least N
 *   replicas online (else every post answers 503).
 * - A cluster: it says `cluster_state:ok`, every partition's master answers
 *   a command on the partition's own keys (which also follows the slot map
 *   to wherever a failover moved it), and with `?wait=N` every master has
 *   at least N replicas online.
 */
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** A readiness answer comes within this, whatever Redis does. */
const READY_CHECK_MS = 1500;

export async function redisReady(redis: RedisClient, keys: RedisKeys, wait: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_CHECK_MS);
  });
  try {
    return await Promise.race([check(redis, keys, wait).catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(redis: RedisClient, keys: RedisKeys, wait: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  if (!isCluster(redis)) return primaryWithReplicas(redis, wait);
  const info = (await redis.cluster('INFO')) as string;
  if (!/^cluster_state:ok\r?$/m.test(info)) return false;
  await Promise.all(keys.partitions.all().map((index) => redis.exists(keys.partition(index).epoch)));
  if (wait === 0) return true;
  const masters = redis.nodes('master');
  const checks = await Promise.all(masters.map((master) => primaryWithReplicas(master, wait)));
  return masters.length > 0 && checks.every(Boolean);
}

/** Whether `redis` is a primary with at least `wait` replicas online. */
async function primaryWithReplicas(redis: Redis, wait: number): Promise<boolean> {
  const info = await redis.info('replication');
  if (!/^role:master\r?$/m.test(info)) return false;
  const online = info.match(/^slave\d+:.*state=online/gm)?.length ?? 0;
  return online >= wait;
}
