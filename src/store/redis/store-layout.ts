/**
 * What the store makes sure of in Redis before it serves (redis-store.ts
 * runs it when it opens, or, if Redis did not answer then, before the first
 * command that reaches it):
 *
 * 0. The endpoint is of the kind the URL says: a `redis://` URL (or the
 *    primary Sentinels name) that reaches a cluster node refuses to open
 *    (issue 19), and so does a `redis+cluster://` URL whose nodes are no
 *    cluster's (`checkEndpointKind`, when it never gets ready).
 * 1. The data was written with this number of partitions: walls hash to
 *    another partition under another number, and their history would look
 *    lost. A mismatch refuses to open, saying both numbers.
 * 2. On a single Redis, the keys of an older wallcast are moved into
 *    partitions (adopt-legacy-layout.ts).
 * 3. The set of walls admitted against `maxWalls` exists: when it does not
 *    (a new deployment, or a cluster master lost it with no replica to take
 *    over) it is rebuilt from the partitions' active sets.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisEndpoint } from '../../config-store.js';
import { StoreOpenError } from '../store.js';
import { adoptLegacyLayout } from './adopt-legacy-layout.js';
import { isCluster, type RedisClient } from './connect.js';
import type { RedisKeys } from './keys.js';

/** Walls read and admitted per round trip while the admitted set is rebuilt. */
const REBUILD_BATCH = 500;

export async function prepareLayout(
  redis: RedisClient,
  keys: RedisKeys,
  mode: RedisEndpoint['mode'],
  log: Logger,
): Promise<void> {
  if (mode !== 'cluster' && !isCluster(redis) && clusterEnabled(await redis.info('cluster'))) {
    throw new StoreOpenError(
      'this Redis is a node of a cluster: use redis+cluster://HOST:PORT,HOST:PORT/ (a cluster keeps walls in partitions over its masters)',
    );
  }
  const count = String(keys.partitions.count);
  if ((await redis.set(keys.admission.layout, count, 'NX')) === null) {
    const was = await redis.get(keys.admission.layout);
    if (was !== null && was !== count) {
      throw new StoreOpenError(
        `its data is in ${was} partitions, not ${count}: set ?partitions=${was} (the number is fixed for the life of the data)`,
      );
    }
  }
  if (!isCluster(redis)) await adoptLegacyLayout(redis, keys, log);
  if ((await redis.exists(keys.admission.admitted)) === 1) return;
  let walls = 0;
  for (const index of keys.partitions.all()) {
    const { active } = keys.partition(index);
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(active, cursor, 'COUNT', REBUILD_BATCH);
      if (flat.length > 0) {
        // ZADD's arguments are score then member: the reverse of ZSCAN's pairs.
        const pairs: string[] = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push(flat[i + 1] as string, flat[i] as string);
        walls += await redis.zadd(keys.admission.admitted, 'NX', ...pairs);
      }
      cursor = next;
    } while (cursor !== '0');
  }
  if (walls > 0) log.info({ walls }, 'redis: the walls counted against WALLCAST_MAX_WALLS were counted again');
}

/** How long a seed of a cluster that never got ready is given to say what it is. */
const PROBE_MS = 1000;

/**
 * A `redis+cluster://` endpoint whose client did not get ready: when a seed
 * answers that it is no cluster node, the store refuses to open; when none
 * answers, the store opens as not ready, and its client keeps trying.
 */
export async function checkEndpointKind(endpoint: RedisEndpoint, connected: boolean): Promise<void> {
  if (endpoint.mode !== 'cluster' || connected) return;
  for (const { host, port } of endpoint.nodes) {
    const probe = new Redis({
      host,
      port,
      username: endpoint.username,
      password: endpoint.password,
      lazyConnect: true,
      connectTimeout: PROBE_MS,
      commandTimeout: PROBE_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if (!clusterEnabled(await probe.info('cluster'))) {
        throw new StoreOpenError(
          `${host}:${port} is not a cluster node (cluster_enabled:0): use redis://HOST:PORT for a single Redis`,
        );
      }
    } catch (error) {
      if (error instanceof StoreOpenError) throw error;
    } finally {
      probe.disconnect();
    }
  }
}

function clusterEnabled(info: string): boolean {
  return /^cluster_enabled:1\r?$/m.test(info);
}
